#!/bin/sh
# Docker health check: unhealthy when crond is gone or when the last run of any job failed.
# The message (the first line of output) is what `docker inspect` shows as the health log.
set -u
: "${STATUS_DIR:?STATUS_DIR is not set}"
: "${BACKUP_JOBS:?BACKUP_JOBS is not set}"

if ! pidof crond >/dev/null 2>&1; then
    echo "unhealthy: crond is not running, no backup will run"
    exit 1
fi
for job in $BACKUP_JOBS; do
    status="$STATUS_DIR/$job.status"
    [ -f "$status" ] || continue
    result=$(sed -n 's/^result=//p' "$status")
    if [ "$result" != ok ]; then
        finished=$(sed -n 's/^finished=//p' "$status")
        code=$(sed -n 's/^exit_code=//p' "$status")
        echo "unhealthy: last $job run failed at $finished (exit code $code); see docker logs"
        exit 1
    fi
done
echo "healthy: crond running; last runs ok (jobs: $BACKUP_JOBS)"
