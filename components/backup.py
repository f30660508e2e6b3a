"""Backups: milvus-backup's config file, the backup schedule, retention, and the scheduler container.

Everything here is pure. `render_backup_yaml` writes the backup.yaml both milvus-backup containers read;
`parse_backup` validates `milvus-platform:backup`; `scheduler_spec` describes the scheduler container, an
image built from backup/scheduler/ (the pinned milvus-backup image plus etcdctl/etcdutl and mc) that runs
busybox crond with the crontab rendered here. No container gets the Docker socket.

Facts about milvus-backup v0.4.15 this relies on (read in its source, core/paramtable):
- Credentials: `minio.accessKeyID`/`secretAccessKey` fall back to `minioadmin` when the key is ABSENT from
  the yaml, but an empty string is kept as empty (the fallback only applies to missing keys). The env
  overrides MINIO_ACCESS_KEY/MINIO_SECRET_KEY/MILVUS_USER/MILVUS_PASSWORD replace a value only when the
  variable is non-empty. So the yaml carries every credential key as "" and the real values come from
  secret env: with the env empty, MinIO sees an anonymous client and refuses, never `minioadmin`.
  `milvus.user`/`password` have no fallback (absent or empty means no credentials; with authorization on,
  Milvus then answers UNAUTHENTICATED, never `root`/`Milvus`).
- `backupAccessKeyID`/`backupSecretAccessKey` are read only for Azure storage, but default to
  `minioadmin` too, so they are written as "" as well.
- The CLI exits 0 when an operation fails; the job scripts read its output instead (see backup/scheduler).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

import pulumi
import yaml

from components.config import (
    BUCKET_NAME,
    ConfigError,
    MilvusSettings,
    MinioSettings,
    Secret,
    Section,
    describe,
)
from components.images import DEFAULT_IMAGES, image_tag
from components.spec import ConfigFile, HealthCheck, ImageBuild, ServiceSpec, VolumeMount

BACKUP_CONFIG_PATH = "/app/configs/backup.yaml"

SCHEDULER_KEY = "backup-scheduler"
SCHEDULER_CONTAINER = "milvus-backup-scheduler"
SCHEDULER_CONTEXT = "backup/scheduler"  # image build context, relative to the repo root
REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEDULER_IMAGE_REPOSITORY = "milvus-platform/backup-scheduler"
SCRIPTS_DIR = "/app/scheduler"
CRONTAB_PATH = f"{SCRIPTS_DIR}/crontab"
SNAPSHOT_VOLUME = "etcd-snapshots"
SNAPSHOT_DIR = "/snapshots"
STATUS_VOLUME = "backup-status"
STATUS_DIR = "/status"

# Backup and snapshot names carry their UTC creation time, which retention reads back.
MILVUS_BACKUP_PREFIX = "scheduled_"
ETCD_SNAPSHOT_PREFIX = "etcd_"
ETCD_SNAPSHOT_SUFFIX = ".db"
STAMP_FORMAT = "%Y%m%d_%H%M%S"
_STAMP = re.compile(r"\d{8}_\d{6}")

JOBS = ("milvus-backup", "etcd-snapshot", "offsite-mirror")

# --------------------------------------------------------------------------------------------------
# backup.yaml
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupYamlSettings:
    """What milvus-backup needs to find Milvus and its data. Credentials are deliberately absent."""

    bucket: str  # Milvus's own data bucket: a backup of any other bucket holds metadata only
    root_path: str
    backup_bucket: str
    backup_root_path: str
    auth_enabled: bool
    milvus_host: str = "milvus-standalone"
    milvus_port: int = 19530
    milvus_http_port: int = 9091
    minio_host: str = "milvus-minio"
    minio_port: int = 9000
    minio_use_ssl: bool = False
    tls_mode: int = 0
    log_level: str = "info"
    gc_pause_seconds: int = 7200

    @classmethod
    def for_platform(cls, minio: MinioSettings, milvus: MilvusSettings) -> BackupYamlSettings:
        return cls(
            bucket=minio.bucket,
            root_path=minio.root_path,
            backup_bucket=minio.backup_bucket,
            backup_root_path=minio.backup_root_path,
            auth_enabled=milvus.auth_enabled,
        )

    @property
    def minio_endpoint_url(self) -> str:
        return f"{'https' if self.minio_use_ssl else 'http'}://{self.minio_host}:{self.minio_port}"


def render_backup_yaml(settings: BackupYamlSettings) -> str:
    """backup.yaml for milvus-backup v0.4.15, without any credential (they come from secret env)."""
    document = {
        "log": {"level": settings.log_level, "console": True, "file": {"rootPath": ""}},
        "http": {"simpleResponse": True},
        "milvus": {
            # Host and port apart: v0.4.15 joins them itself, so `host:19530` would become `host:19530:19530`.
            "address": settings.milvus_host,
            "port": settings.milvus_port,
            "authorizationEnabled": settings.auth_enabled,
            "tlsMode": settings.tls_mode,
            "user": "",
            "password": "",
        },
        "minio": {
            "storageType": "minio",
            "address": settings.minio_host,
            "port": settings.minio_port,
            # Present and empty, never absent: an absent key means `minioadmin` in v0.4.15.
            "accessKeyID": "",
            "secretAccessKey": "",
            "useSSL": settings.minio_use_ssl,
            "useIAM": False,
            "iamEndpoint": "",
            "bucketName": settings.bucket,
            "rootPath": settings.root_path,
            "backupAccessKeyID": "",
            "backupSecretAccessKey": "",
            "backupBucketName": settings.backup_bucket,
            "backupRootPath": settings.backup_root_path,
        },
        "backup": {
            "maxSegmentGroupSize": "2G",
            "parallelism": {"backupCollection": 4, "copydata": 128, "restoreCollection": 2},
            "keepTempFiles": False,
            # Milvus must not garbage-collect segments while they are being copied.
            "gcPause": {
                "enable": True,
                "seconds": settings.gc_pause_seconds,
                "address": f"http://{settings.milvus_host}:{settings.milvus_http_port}",
            },
        },
    }
    header = (
        "# milvus-backup v0.4.15 config, rendered by milvus-platform (components/backup.py).\n"
        "# Credentials are empty on purpose: MILVUS_USER, MILVUS_PASSWORD, MINIO_ACCESS_KEY and\n"
        "# MINIO_SECRET_KEY come from the container's secret environment.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


# --------------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------------

# busybox crond (alpine 3.17) fields: numbers, `*`, ranges, steps and lists. Names and @macros are left out
# so every accepted expression means the same to busybox as to a reader.
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
_CRON_ITEM = re.compile(r"^(?:\*|(?P<low>\d+)(?:-(?P<high>\d+))?)(?:/(?P<step>\d+))?$")


class CronError(ValueError):
    pass


def check_cron(expression: str) -> None:
    """Raise `CronError` saying what is wrong unless `expression` is a 5-field cron schedule busybox accepts."""
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"has {len(fields)} fields, not 5 (minute hour day-of-month month day-of-week)")
    for text, (title, lowest, highest) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            match = _CRON_ITEM.match(item)
            if not match:
                raise CronError(f"{title} field {text!r} is not a number, `*`, range, step or list")
            low, high, step = match.group("low"), match.group("high"), match.group("step")
            values = [int(v) for v in (low, high) if v is not None]
            if any(not lowest <= v <= highest for v in values):
                raise CronError(f"{title} field {text!r} is outside {lowest}-{highest}")
            if low is not None and high is not None and int(low) > int(high):
                raise CronError(f"{title} field {text!r} has a range that runs backwards")
            if step is not None and low is not None and high is None:
                # `5/10` means 5-59/10 to vixie cron but only 5 to busybox: refused as ambiguous.
                raise CronError(f"{title} field {text!r} has a step after a single number; use `5-59/10`")
            if step is not None and not 1 <= int(step) <= highest:
                raise CronError(f"{title} field {text!r} has a step outside 1-{highest}")


def posix_tz(zone: str) -> str:
    """The POSIX TZ rule for an IANA zone (e.g. Europe/Berlin -> CET-1CEST,M3.5.0,M10.5.0/3).

    Alpine without tzdata ignores `TZ=Europe/Berlin` and runs crond in UTC; musl does understand a POSIX rule
    string, and every TZif v2+ file ends with one for its current rules. So the scheduler gets the rule and
    the image needs no zone files. Raises `ZoneInfoNotFoundError` for an unknown zone."""
    ZoneInfo(zone)  # validates the name (and rejects paths such as ../../etc/passwd)
    data = _zone_file(zone)
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")
    if not data.startswith(b"TZif") or not footer or data[4:5] < b"2":
        raise ZoneInfoNotFoundError(f"zone file for {zone} has no POSIX TZ footer")
    return footer


def _zone_file(zone: str) -> bytes:
    for root in TZPATH:
        candidate = Path(root) / zone
        if candidate.is_file():
            return candidate.read_bytes()
    try:
        from importlib.resources import files

        package, _, name = f"tzdata.zoneinfo.{zone}".replace("/", ".").rpartition(".")
        return files(package).joinpath(name).read_bytes()
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        raise ZoneInfoNotFoundError(f"no zone file for {zone}") from None


# --------------------------------------------------------------------------------------------------
# Config: milvus-platform:backup
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OffsiteTarget:
    """An S3 bucket off the Docker host that receives a copy of every backup."""

    endpoint: str  # http(s)://host[:port]
    bucket: str
    access_key: Secret
    secret_key: Secret
    schedule: str
    keep_days: int


@dataclass(frozen=True)
class BackupConfig:
    milvus_schedule: str = "0 2 * * *"
    milvus_keep_days: int = 30
    etcd_schedule: str = "0 */6 * * *"
    etcd_keep_days: int = 14
    time_zone: str = "Etc/UTC"
    offsite: OffsiteTarget | None = None  # None: no off-host copy (the stack output and policy pack say so)
    memory_mb: int = 256

    def schedule_output(self) -> dict[str, str | None]:
        """The `backupSchedule` stack output."""
        return {
            "milvus": self.milvus_schedule,
            "etcd": self.etcd_schedule,
            "offsite": self.offsite.schedule if self.offsite else None,
            "timezone": self.time_zone,
        }

    def offsite_output(self) -> str:
        """The `offsiteBackup` stack output: where the off-host copy goes, or a warning that there is none."""
        if self.offsite is None:
            return (
                "none configured: backups stay on the Docker host's disk only; set "
                "milvus-platform:backup.offsite (endpoint, bucket, accessKey, secretKey) for an off-host copy"
            )
        return f"{self.offsite.endpoint}/{self.offsite.bucket} at {self.offsite.schedule} ({self.time_zone}), kept {self.offsite.keep_days} days"


SCHEDULER_MEMORY_MINIMUM_MB = 128


def _schedule(section: Section, name: str, default: str) -> str:
    value = section.checked_string(
        name,
        default,
        check_cron,
        'a 5-field cron expression with numbers, `*`, ranges, steps and lists, e.g. "0 2 * * *"',
    )
    return " ".join(value.split())


def _keep_days(section: Section, name: str, default: int) -> int:
    return section.integer(name, default, 1, 3650, " (days)")


def _offsite(section: Section) -> OffsiteTarget | None:
    if not section.values:
        section.finish()
        return None
    endpoint = section.string("endpoint")
    url = urlparse(endpoint or "")
    if (
        endpoint is None
        or url.scheme not in ("http", "https")
        or not url.hostname
        or url.path not in ("", "/")
    ):
        raise ConfigError(
            section.key("endpoint"),
            "is missing" if endpoint is None else f"is {describe(endpoint)}, not an S3 endpoint URL",
            "http(s)://HOST[:PORT] of an S3 service off the Docker host, e.g. https://s3.example.org",
        )
    bucket = section.string("bucket")
    if bucket is None or not BUCKET_NAME.match(bucket):
        raise ConfigError(
            section.key("bucket"),
            "is missing" if bucket is None else f"is {describe(bucket)}, not a valid S3 bucket name",
            "3-63 characters of lower-case letters, digits, dots and hyphens",
        )
    keys = {}
    for name in ("accessKey", "secretKey"):
        value = section.secret_string(name)
        if value is None:
            raise ConfigError(
                section.key(name),
                "is missing",
                f"a secret: `pulumi config set --secret --path milvus-platform:{section.key(name)} <value>`",
            )
        keys[name] = value
    target = OffsiteTarget(
        endpoint=endpoint.rstrip("/"),
        bucket=bucket,
        access_key=keys["accessKey"],
        secret_key=keys["secretKey"],
        schedule=_schedule(section, "schedule", "0 3 * * *"),
        keep_days=_keep_days(section, "keepDays", 90),
    )
    section.finish()
    return target


def parse_backup(section: Section) -> BackupConfig:
    """Validate `milvus-platform:backup`; raises `ConfigError` naming the key and what is accepted."""
    defaults = BackupConfig()
    time_zone = section.string("timeZone", defaults.time_zone)
    assert time_zone is not None
    try:
        posix_tz(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            section.key("timeZone"),
            f"is {describe(time_zone)}, not a known IANA time zone",
            'a zone name such as "Etc/UTC" or "Europe/Berlin"',
        ) from None
    config = BackupConfig(
        milvus_schedule=_schedule(section, "milvusSchedule", defaults.milvus_schedule),
        milvus_keep_days=_keep_days(section, "milvusKeepDays", defaults.milvus_keep_days),
        etcd_schedule=_schedule(section, "etcdSchedule", defaults.etcd_schedule),
        etcd_keep_days=_keep_days(section, "etcdKeepDays", defaults.etcd_keep_days),
        time_zone=time_zone,
        offsite=_offsite(section.section("offsite")),
        memory_mb=section.integer(
            "memoryMb",
            defaults.memory_mb,
            SCHEDULER_MEMORY_MINIMUM_MB,
            64 * 1024,
            f" (MB; the scheduler needs at least {SCHEDULER_MEMORY_MINIMUM_MB})",
        ),
    )
    section.finish()
    return config


# --------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------


def backup_time(name: str, prefix: str, suffix: str = "") -> datetime | None:
    """The UTC time in a PREFIX + YYYYmmdd_HHMMSS + SUFFIX name, or None when the name is not one of ours
    (another prefix, a hand-made backup, an impossible date, a year before 1970)."""
    if not (name.startswith(prefix) and name.endswith(suffix)):
        return None
    stamp = name[len(prefix) : len(name) - len(suffix)]
    if not _STAMP.fullmatch(stamp):
        return None
    try:
        moment = datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment if moment.year >= 1970 else None


def backup_name(prefix: str, moment: datetime, suffix: str = "") -> str:
    return f"{prefix}{moment.astimezone(UTC).strftime(STAMP_FORMAT)}{suffix}"


def select_expired(
    names: Iterable[str], now: datetime, keep_days: int, prefix: str, suffix: str = ""
) -> set[str]:
    """The names to delete: ours and older than `keep_days` days before `now`, except the newest of ours.

    - Names that are not ours (`backup_time` is None) are ignored, so never deleted.
    - The newest is always kept, so a schedule that stopped producing backups never prunes to zero.
    - A time after `now` (clock skew) counts as young: kept.
    The shell scripts in backup/scheduler/lib.sh implement the same rule; a test checks they agree."""
    dated = {name: moment for name in names if (moment := backup_time(name, prefix, suffix)) is not None}
    if not dated:
        return set()
    newest = max(dated, key=lambda name: dated[name])
    cutoff = now - timedelta(days=keep_days)
    return {name for name, moment in dated.items() if moment < cutoff and name != newest}


# --------------------------------------------------------------------------------------------------
# The scheduler container
# --------------------------------------------------------------------------------------------------


def render_crontab(config: BackupConfig) -> str:
    """The crontab for busybox crond. Job output goes to PID 1's stdout, i.e. `docker logs`."""
    jobs = [("milvus-backup", config.milvus_schedule), ("etcd-snapshot", config.etcd_schedule)]
    if config.offsite is not None:
        jobs.append(("offsite-mirror", config.offsite.schedule))
    lines = [
        "# Rendered by milvus-platform (components/backup.py); times are in the container's TZ",
        f"# ({config.time_zone}).",
    ]
    lines += [f"{schedule} {SCRIPTS_DIR}/run-job.sh {job} >/proc/1/fd/1 2>&1" for job, schedule in jobs]
    return "\n".join(lines) + "\n"


def scheduler_jobs(config: BackupConfig) -> tuple[str, ...]:
    return JOBS if config.offsite is not None else JOBS[:2]


def scheduler_environment(
    config: BackupConfig, settings: BackupYamlSettings, etcd_endpoint: str = "http://milvus-etcd:2379"
) -> dict[str, str]:
    """The scheduler's non-secret environment: what the job scripts read (secrets go in `secret_env`)."""
    env = {
        "TZ": posix_tz(config.time_zone),
        "BACKUP_TIME_ZONE": config.time_zone,
        "BACKUP_CONFIG": BACKUP_CONFIG_PATH,
        "BACKUP_JOBS": " ".join(scheduler_jobs(config)),
        "CRONTAB_FILE": CRONTAB_PATH,
        "STATUS_DIR": STATUS_DIR,
        "SNAPSHOT_DIR": SNAPSHOT_DIR,
        "ETCD_ENDPOINTS": etcd_endpoint,
        "ETCD_KEEP_DAYS": str(config.etcd_keep_days),
        "ETCD_SNAPSHOT_PREFIX": ETCD_SNAPSHOT_PREFIX,
        "MILVUS_KEEP_DAYS": str(config.milvus_keep_days),
        "MILVUS_BACKUP_PREFIX": MILVUS_BACKUP_PREFIX,
        # Non-empty env wins over backup.yaml in milvus-backup, so these repeat it for the shell scripts.
        "MILVUS_AUTHORIZATION_ENABLED": "true" if settings.auth_enabled else "false",
        "MINIO_ENDPOINT_URL": settings.minio_endpoint_url,
        "MINIO_BACKUP_BUCKET_NAME": settings.backup_bucket,
        "MINIO_BACKUP_ROOT_PATH": settings.backup_root_path,
    }
    if config.offsite is not None:
        env |= {
            "OFFSITE_S3_ENDPOINT": config.offsite.endpoint,
            "OFFSITE_BUCKET": config.offsite.bucket,
            "OFFSITE_KEEP_DAYS": str(config.offsite.keep_days),
        }
    return env


def scheduler_context_digest(context: Path = REPO_ROOT / SCHEDULER_CONTEXT) -> str:
    """sha256 over the build context's files (names and contents), first 12 hex digits."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def scheduler_image_tag(backup_image: str, context_digest: str | None = None) -> str:
    """The local tag of the built scheduler image: the milvus-backup version it is built from plus a digest
    of the build context, so a changed script gives a new tag and Pulumi replaces image and container
    (a fixed tag would leave the old scripts running)."""
    digest = context_digest if context_digest is not None else scheduler_context_digest()
    return f"{SCHEDULER_IMAGE_REPOSITORY}:{image_tag(backup_image).replace(':', '-')}-{digest}"


def scheduler_spec(
    config: BackupConfig,
    settings: BackupYamlSettings,
    *,
    minio_access_key: pulumi.Input[str],
    minio_secret_key: pulumi.Input[str],
    milvus_user: pulumi.Input[str] | None = None,
    milvus_password: pulumi.Input[str] | None = None,
    backup_image: str = DEFAULT_IMAGES.backup,
    etcd_image: str = DEFAULT_IMAGES.etcd,
    minio_image: str = DEFAULT_IMAGES.minio,
    etcd_endpoint: str = "http://milvus-etcd:2379",
    depends_on: tuple[str, ...] = (),
) -> ServiceSpec:
    """The `milvus-backup-scheduler` container: crond running the backup jobs. No ports, no Docker socket."""
    if settings.auth_enabled and (milvus_user is None or milvus_password is None):
        raise ValueError("Milvus authorization is on: the scheduler needs milvus_user and milvus_password")
    secret_env: dict[str, pulumi.Input[str]] = {
        "MINIO_ACCESS_KEY": minio_access_key,
        "MINIO_SECRET_KEY": minio_secret_key,
    }
    if milvus_user is not None and milvus_password is not None:
        secret_env |= {"MILVUS_USER": milvus_user, "MILVUS_PASSWORD": milvus_password}
    if config.offsite is not None:
        # Plain strings from secret config; service.py marks the container's whole env list secret.
        secret_env |= {
            "OFFSITE_ACCESS_KEY": config.offsite.access_key.value,
            "OFFSITE_SECRET_KEY": config.offsite.secret_key.value,
        }
    return ServiceSpec(
        key=SCHEDULER_KEY,
        container_name=SCHEDULER_CONTAINER,
        image=scheduler_image_tag(backup_image),
        build=ImageBuild(
            context=SCHEDULER_CONTEXT,
            args={"BACKUP_IMAGE": backup_image, "ETCD_IMAGE": etcd_image, "MINIO_IMAGE": minio_image},
        ),
        memory_mb=config.memory_mb,
        # Unhealthy when crond is gone or any job's last run failed (backup/scheduler/healthcheck.sh).
        healthcheck=HealthCheck(
            test=("CMD", f"{SCRIPTS_DIR}/healthcheck.sh"),
            interval="60s",
            timeout="10s",
            retries=1,
            start_period="10s",
        ),
        entrypoint=(f"{SCRIPTS_DIR}/entrypoint.sh",),
        env=scheduler_environment(config, settings, etcd_endpoint),
        secret_env=secret_env,
        volumes=(VolumeMount(SNAPSHOT_VOLUME, SNAPSHOT_DIR), VolumeMount(STATUS_VOLUME, STATUS_DIR)),
        files=(
            ConfigFile(BACKUP_CONFIG_PATH, render_backup_yaml(settings)),
            ConfigFile(CRONTAB_PATH, render_crontab(config)),
        ),
        depends_on=depends_on,
        # Root filesystem stays writable: the config files are copied in before start, and crond's
        # crontab directory and mc's config directory live in /tmp.
        read_only_root=False,
        tmpfs={"/tmp": "rw,nosuid,nodev,size=64m"},
        cpu_shares=256,  # backups yield to Milvus when the host is busy
        wait_timeout_s=120,
    )


# --------------------------------------------------------------------------------------------------
# Status files (written by backup/scheduler/run-job.sh), for the verification tool
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStatus:
    job: str
    ok: bool
    exit_code: int
    started: str
    finished: str
    summary: tuple[str, ...]


def parse_status(text: str) -> JobStatus:
    """Read a `<job>.status` file; raises ValueError naming the missing field on a malformed one."""
    fields: dict[str, str] = {}
    summary: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "summary":
            summary.append(value)
        else:
            fields[key] = value
    missing = [key for key in ("job", "result", "exit_code", "started", "finished") if key not in fields]
    if missing:
        raise ValueError(f"status file lacks {', '.join(missing)}")
    return JobStatus(
        job=fields["job"],
        ok=fields["result"] == "ok",
        exit_code=int(fields["exit_code"]),
        started=fields["started"],
        finished=fields["finished"],
        summary=tuple(summary),
    )


def status_paths(config: BackupConfig) -> Mapping[str, str]:
    """Job -> status file path inside the scheduler container."""
    return {job: f"{STATUS_DIR}/{job}.status" for job in scheduler_jobs(config)}
