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

# One run per job at a time: a slow backup must not overlap the next one. mkdir is atomic and needs no
# flock applet; the lock holds the runner's pid, so a run killed without cleaning up (OOM) leaves a lock
# that the next run recognises as stale instead of skipping forever. /tmp is cleared on restart anyway.
lock="${TMPDIR:-/tmp}/backup-$JOB_NAME.lock"
if ! mkdir "$lock" 2>/dev/null; then
    holder=$(cat "$lock/pid" 2>/dev/null || true)
    if [ -z "$holder" ] || kill -0 "$holder" 2>/dev/null; then
        log "previous $JOB_NAME run (pid ${holder:-starting}) still in progress; this run is skipped"
        exit 0
    fi
    log "removing the stale lock of run pid $holder, which no longer exists"
    rm -rf "$lock"
    mkdir "$lock" || die "cannot take the lock $lock"
fi
echo "$$" >"$lock/pid"
trap 'rm -rf "$lock"' EXIT

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
