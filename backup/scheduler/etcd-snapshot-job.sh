#!/bin/sh
# Save an etcd snapshot onto the snapshot volume, check it, and only then delete snapshots older than
# ETCD_KEEP_DAYS (never the newest). A snapshot that fails its check is removed and nothing is pruned.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

: "${ETCD_ENDPOINTS:?ETCD_ENDPOINTS is not set}"
: "${SNAPSHOT_DIR:?SNAPSHOT_DIR is not set}"
: "${ETCD_KEEP_DAYS:?ETCD_KEEP_DAYS is not set}"
: "${ETCD_SNAPSHOT_PREFIX:=etcd_}"
# A snapshot of a few GiB takes minutes; an unreachable etcd must still fail within the timeout.
: "${ETCD_COMMAND_TIMEOUT:=300s}"
suffix=.db

# etcd 3.5 moved offline snapshot commands to etcdutl; etcdctl 3.4 (used by the tests) still has them.
snapshot_status() {
    if command -v etcdutl >/dev/null 2>&1; then
        etcdutl snapshot status "$1" -w table
    else
        etcdctl snapshot status "$1" -w table
    fi
}

# File names in the snapshot directory; dot files (partial snapshots) are not listed.
list_snapshot_dir() {
    for path in "$SNAPSHOT_DIR"/*; do
        [ -f "$path" ] && printf '%s\n' "${path##*/}"
    done
    return 0
}

mkdir -p "$SNAPSHOT_DIR"
now=$(now_epoch)
name="$ETCD_SNAPSHOT_PREFIX$(stamp_of "$now")$suffix"
# Written under a name prune never matches, renamed only once checked, so a half-written file never
# counts as the newest snapshot.
partial="$SNAPSHOT_DIR/.partial-$name"
trap 'rm -f "$partial" "$partial.part"' EXIT

log "saving etcd snapshot $name from $ETCD_ENDPOINTS"
if ! etcdctl --endpoints="$ETCD_ENDPOINTS" --dial-timeout=10s --command-timeout="$ETCD_COMMAND_TIMEOUT" snapshot save "$partial"; then
    die "etcdctl snapshot save failed; nothing pruned"
fi
if ! status=$(snapshot_status "$partial" 2>&1); then
    die "snapshot check failed, snapshot discarded and nothing pruned: $(one_line "$status")"
fi
printf '%s\n' "$status"
mv "$partial" "$SNAPSHOT_DIR/$name"
size=$(wc -c <"$SNAPSHOT_DIR/$name" | tr -d ' ')
summary "saved and checked $name ($size bytes)"

expired=$(list_snapshot_dir | select_expired "$ETCD_SNAPSHOT_PREFIX" "$suffix" "$now" "$ETCD_KEEP_DAYS")
for old in $expired; do
    rm -f "$SNAPSHOT_DIR/$old"
done
kept=$(list_snapshot_dir | grep -F "$ETCD_SNAPSHOT_PREFIX" | grep -F "$suffix" || true)
summary "kept $(count_lines "$kept") snapshot(s) (window ${ETCD_KEEP_DAYS} days): $(one_line "$kept")"
summary "pruned $(count_lines "$expired") snapshot(s): $(one_line "$expired")"
