#!/bin/sh
# Disaster recovery: restore an etcd snapshot into etcd's data directory. Run it with etcd and Milvus
# STOPPED, in a one-off container that mounts etcd's data volume and the snapshot volume (tools/restore.py
# `etcd` does exactly that), e.g.
#   docker run --rm --network none -v <etcd-data-volume>:/etcd -v <snapshot-volume>:/snapshots:ro \
#     -e RESTORE_REPLACE=yes --entrypoint /app/scheduler/etcd-restore.sh <scheduler-image> /snapshots/etcd_....db
# The current data is kept next to it as member.replaced-<time> (etcd ignores it, with a warning), so the
# restore can be undone; delete it once Milvus is verified.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
JOB_NAME=etcd-restore

snapshot=${1:?usage: etcd-restore.sh SNAPSHOT_FILE}
: "${ETCD_DATA_DIR:=/etcd}"
# The platform's etcd runs with etcd's defaults for these, so the restored member must use them too.
: "${ETCD_NAME:=default}"
: "${ETCD_INITIAL_ADVERTISE_PEER_URLS:=http://localhost:2380}"
: "${ETCD_INITIAL_CLUSTER:=$ETCD_NAME=$ETCD_INITIAL_ADVERTISE_PEER_URLS}"
: "${RESTORE_REPLACE:=no}"

# etcd 3.5 has these under etcdutl; etcdctl 3.4 (Debian's, used by the tests) still has them.
offline_tool() {
    if command -v etcdutl >/dev/null 2>&1; then etcdutl "$@"; else etcdctl "$@"; fi
}

[ -f "$snapshot" ] || die "snapshot $snapshot does not exist"
[ -d "$ETCD_DATA_DIR" ] || die "etcd data directory $ETCD_DATA_DIR does not exist (is the volume mounted?)"
if [ -d "$ETCD_DATA_DIR/member" ] && [ "$RESTORE_REPLACE" != yes ]; then
    die "$ETCD_DATA_DIR already holds etcd data; set RESTORE_REPLACE=yes to replace it (it is kept as member.replaced-<time>)"
fi

log "checking snapshot $snapshot"
offline_tool snapshot status "$snapshot" -w table || die "snapshot $snapshot failed its check; nothing changed"

stamp=$(stamp_of "$(now_epoch)")
staging="$ETCD_DATA_DIR/.restore-$stamp"
log "restoring into $staging (member $ETCD_NAME, cluster $ETCD_INITIAL_CLUSTER)"
offline_tool snapshot restore "$snapshot" --data-dir "$staging" --name "$ETCD_NAME" \
    --initial-cluster "$ETCD_INITIAL_CLUSTER" --initial-advertise-peer-urls "$ETCD_INITIAL_ADVERTISE_PEER_URLS" \
    || { rm -rf "$staging"; die "snapshot restore failed; nothing changed"; }

# Same owner as the data directory, in case etcd runs as a non-root user.
owner=$(stat -c %u:%g "$ETCD_DATA_DIR")
chown -R "$owner" "$staging"

if [ -d "$ETCD_DATA_DIR/member" ]; then
    mv "$ETCD_DATA_DIR/member" "$ETCD_DATA_DIR/member.replaced-$stamp"
    log "previous data kept as $ETCD_DATA_DIR/member.replaced-$stamp"
fi
mv "$staging/member" "$ETCD_DATA_DIR/member"
rm -rf "$staging"
log "restored $snapshot into $ETCD_DATA_DIR; start etcd, then Milvus"
