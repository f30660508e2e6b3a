#!/bin/sh
# Run one scheduled job (crond calls this), log its start, end and exit code, and record the outcome in
# STATUS_DIR/<job>.status for the health check and the verification tool. Usage: run-job.sh JOB
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

JOB_NAME=${1:?usage: run-job.sh milvus-backup|etcd-snapshot|offsite-mirror}
: "${STATUS_DIR:?STATUS_DIR is not set}"
case $JOB_NAME in
    milvus-backup | etcd-snapshot | offsite-mirror) ;;
    *) die "unknown job $JOB_NAME (known: milvus-backup, etcd-snapshot, offsite-mirror)" ;;
esac
mkdir -p "$STATUS_DIR"

# One run per job at a time: a slow backup must not overlap the next one. The lock lives in /tmp, so a
# container restart never leaves a stale one behind.
lock="${TMPDIR:-/tmp}/backup-$JOB_NAME.lock"
exec 9>"$lock"
if ! flock -n 9; then
    log "previous $JOB_NAME run still in progress; this run is skipped"
    exit 0
fi

JOB_SUMMARY_FILE=$(mktemp)
export JOB_NAME JOB_SUMMARY_FILE
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log "started"
"$(dirname "$0")/$JOB_NAME-job.sh"
code=$?
finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ "$code" -eq 0 ]; then result=ok; else result=failed; fi

status="$STATUS_DIR/$JOB_NAME.status"
{
    printf 'job=%s\n' "$JOB_NAME"
    printf 'result=%s\n' "$result"
    printf 'exit_code=%s\n' "$code"
    printf 'started=%s\n' "$started"
    printf 'finished=%s\n' "$finished"
    sed 's/^/summary=/' "$JOB_SUMMARY_FILE"
} >"$status.tmp"
# Renamed into place, so a reader never sees half a status file.
mv "$status.tmp" "$status"
rm -f "$JOB_SUMMARY_FILE"
log "finished: $result (exit code $code)"
exit "$code"
