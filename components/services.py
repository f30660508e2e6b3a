"""What runs on the Docker host: one pure function per service, returning a `ServiceSpec`.

Each function holds only what is particular to its service (command, env, health check, ports); the
hardening every container shares lives in `components/service.py`. Host names and ports come from
`components/topology.py`; facts about the images are listed with their sources in docs/upstream.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import yaml

from components.backup import BACKUP_CONFIG_PATH
from components.backup.backup_yaml import BackupYamlSettings, render_backup_yaml
from components.backup.scheduler import scheduler_spec
from components.config import PlatformConfig
from components.spec import ConfigFile, HealthCheck, PublishedPort, ServiceSpec, VolumeMount
from components.topology import (
    ATTU_HOST,
    ATTU_PORT,
    BACKUP_API_PORT,
    BACKUP_HOST,
    ETCD_HOST,
    ETCD_PORT,
    MILVUS_GRPC_PORT,
    MILVUS_HOST,
    MILVUS_HTTP_PORT,
    MILVUS_ROOT_USER,
    MINIO_API_PORT,
    MINIO_CONSOLE_PORT,
    MINIO_HOST,
)


@dataclass(frozen=True)
class Credentials:
    """The platform's credentials; passwords are Pulumi secrets (plain strings only in unit tests)."""

    minio_user: str
    minio_password: pulumi.Input[str]
    milvus_password: pulumi.Input[str]


def etcd(config: PlatformConfig) -> ServiceSpec:
    return ServiceSpec(
        key="etcd",
        container_name=ETCD_HOST,
        image=config.images.etcd,
        memory_mb=config.memory.etcd,
        command=(
            "etcd",
            f"-advertise-client-urls=http://{ETCD_HOST}:{ETCD_PORT}",
            "-listen-client-urls",
            f"http://0.0.0.0:{ETCD_PORT}",
            "--data-dir",
            "/etcd",
        ),
        env={
            # Without compaction and a quota etcd eventually fails with "mvcc: database space exceeded".
            "ETCD_AUTO_COMPACTION_MODE": "revision",
            "ETCD_AUTO_COMPACTION_RETENTION": "1000",
            "ETCD_QUOTA_BACKEND_BYTES": str(4 * 1024**3),
            "ETCD_SNAPSHOT_COUNT": "50000",
            "ETCD_HEARTBEAT_INTERVAL": "500",
            "ETCD_ELECTION_TIMEOUT": "2500",
        },
        # The image is distroless (no shell, no curl): etcdctl is the one probe it ships.
        healthcheck=HealthCheck(
            test=("CMD", "etcdctl", "endpoint", "health"), timeout="5s", start_period="20s"
        ),
        volumes=(VolumeMount("etcd-data", "/etcd"),),
        # etcd writes nothing outside its data directory.
        read_only_root=True,
    )


# Secrets reach MinIO and Milvus as files uploaded before start, not as env: `docker inspect` shows every
# env value to anyone with Docker API access, and the files are read once by the server (README, Secrets).
# MinIO reads MINIO_ROOT_USER_FILE / MINIO_ROOT_PASSWORD_FILE (minio cmd/common-main.go
# `loadEnvVarsFromFiles`); Milvus reads configs/user.yaml after milvus.yaml (pkg/util/paramtable
# base_table.go `defaultYaml`), below env, which therefore must not set the same keys.
MINIO_ROOT_USER_FILE = "/run/secrets/minio-root-user"
MINIO_ROOT_PASSWORD_FILE = "/run/secrets/minio-root-password"
MILVUS_USER_YAML = "/milvus/configs/user.yaml"


def milvus_user_yaml(minio_password: str, root_password: str | None) -> str:
    """Milvus's user.yaml: the secrets Milvus reads from its config files rather than env."""
    document: dict[str, object] = {"minio": {"secretAccessKey": minio_password}}
    if root_password is not None:
        # Read once, when the first start creates `root` in etcd (Milvus >= 2.4.7). A changed value reaches
        # the stored password through the access component's RootPassword (components/access), which
        # rotates it from the one in state; this file then carries the current password for a fresh data
        # directory, so a rebuilt volume starts with the password the stack holds.
        document["common"] = {"security": {"defaultRootPassword": root_password}}
    return "# Rendered by milvus-platform (components/services.py); secrets only.\n" + yaml.safe_dump(
        document, sort_keys=True
    )


def minio(config: PlatformConfig, credentials: Credentials) -> ServiceSpec:
    return ServiceSpec(
        key="minio",
        container_name=MINIO_HOST,
        image=config.images.minio,
        memory_mb=config.memory.minio,
        command=("minio", "server", "/minio_data", "--console-address", f":{MINIO_CONSOLE_PORT}"),
        env={
            "MINIO_ROOT_USER_FILE": MINIO_ROOT_USER_FILE,
            "MINIO_ROOT_PASSWORD_FILE": MINIO_ROOT_PASSWORD_FILE,
            "MINIO_SITE_REGION": config.minio.region,
        },
        files=(
            ConfigFile(MINIO_ROOT_USER_FILE, credentials.minio_user),
            ConfigFile(MINIO_ROOT_PASSWORD_FILE, pulumi.Output.secret(credentials.minio_password)),
        ),
        # The image ships a static curl on amd64 only (none on arm64 and the others), and mc on every
        # architecture; mc's built-in `local` alias is http://localhost:9000, and `mc ready` polls the
        # unauthenticated cluster health endpoint and retries forever, so the check's timeout is what
        # ends a failing probe (docs/upstream.md).
        healthcheck=HealthCheck(test=("CMD", "mc", "ready", "local"), timeout="10s", start_period="20s"),
        ports=(
            PublishedPort(MINIO_API_PORT, config.ports.minio_api, config.publish_address),
            PublishedPort(MINIO_CONSOLE_PORT, config.ports.minio_console, config.management_address),
        ),
        volumes=(VolumeMount("minio-data", "/minio_data"),),
    )


def milvus(config: PlatformConfig, credentials: Credentials) -> ServiceSpec:
    auth = config.milvus.auth_enabled
    rendered: pulumi.Output[str] = pulumi.Output.all(
        credentials.minio_password, credentials.milvus_password
    ).apply(lambda passwords: milvus_user_yaml(passwords[0], passwords[1] if auth else None))
    user_yaml: pulumi.Output[str] = pulumi.Output.secret(rendered)
    return ServiceSpec(
        key="milvus",
        container_name=MILVUS_HOST,
        image=config.images.milvus,
        memory_mb=config.memory.milvus,
        command=("milvus", "run", "standalone"),
        env={
            # Milvus maps an env var to the config key with the same letters (`_` and `.` dropped).
            "ETCD_ENDPOINTS": f"{ETCD_HOST}:{ETCD_PORT}",
            "MINIO_ADDRESS": f"{MINIO_HOST}:{MINIO_API_PORT}",
            "MINIO_REGION": config.minio.region,
            "MINIO_BUCKET_NAME": config.minio.bucket,
            "MINIO_ROOT_PATH": config.minio.root_path,
            # The same credentials MinIO has (the lab's deployment left Milvus on minioadmin).
            "MINIO_ACCESS_KEY_ID": credentials.minio_user,
            "COMMON_SECURITY_AUTHORIZATIONENABLED": "true" if auth else "false",
        },
        files=(ConfigFile(MILVUS_USER_YAML, user_yaml),),
        # The image is Ubuntu-based and ships curl; timings are upstream's.
        healthcheck=HealthCheck(
            test=("CMD", "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{MILVUS_HTTP_PORT}/healthz"),
            interval="30s",
            timeout="20s",
            retries=3,
            start_period="90s",
        ),
        ports=(
            PublishedPort(MILVUS_GRPC_PORT, config.ports.milvus_grpc, config.publish_address),
            # Health, metrics and management: operators only.
            PublishedPort(MILVUS_HTTP_PORT, config.ports.milvus_http, config.management_address),
        ),
        volumes=(VolumeMount("milvus-data", "/var/lib/milvus"),),
        depends_on=("etcd", "minio"),
        cpu_shares=2048,
        wait_timeout_s=600,
    )


def attu(config: PlatformConfig) -> ServiceSpec:
    probe = (
        f"fetch('http://127.0.0.1:{ATTU_PORT}/api/v1/healthy')"
        ".then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"
    )
    return ServiceSpec(
        key="attu",
        container_name=ATTU_HOST,
        image=config.images.attu,
        memory_mb=config.memory.attu,
        # Resolved inside Attu's container, so it names the Milvus container, never localhost.
        env={"MILVUS_URL": f"{MILVUS_HOST}:{MILVUS_GRPC_PORT}"},
        # node:22-slim has neither curl nor wget; Node 22's built-in fetch is the probe.
        healthcheck=HealthCheck(test=("CMD", "node", "-e", probe), timeout="5s", start_period="20s"),
        # Attu has no login of its own: it is reachable only where publishAddress says.
        ports=(PublishedPort(ATTU_PORT, config.ports.attu, config.publish_address),),
        depends_on=("milvus",),
    )


def backup_credentials_env(
    config: PlatformConfig, credentials: Credentials
) -> tuple[dict[str, str], dict[str, pulumi.Input[str]]]:
    """milvus-backup takes credentials from env (which wins over backup.yaml), so the file holds none.

    v0.5.16 lets a SET env win even when it is empty, so every value here is non-empty: MinIO's user and
    password (config and generator guarantee it), and the Milvus ones only with auth on. The backup
    bucket's credentials inherit these (backup.yaml leaves backupAccessKeyID/backupSecretAccessKey out)."""
    env = {"MINIO_ACCESS_KEY": credentials.minio_user}
    secret_env: dict[str, pulumi.Input[str]] = {"MINIO_SECRET_KEY": credentials.minio_password}
    if config.milvus.auth_enabled:
        env["MILVUS_USER"] = MILVUS_ROOT_USER
        secret_env["MILVUS_PASSWORD"] = credentials.milvus_password
    return env, secret_env


def backup(config: PlatformConfig, credentials: Credentials) -> ServiceSpec:
    env, secret_env = backup_credentials_env(config, credentials)
    return ServiceSpec(
        key="backup",
        container_name=BACKUP_HOST,
        image=config.images.backup,
        memory_mb=config.memory.backup,
        # The image's entrypoint is `/app/milvus-backup server`: its REST API on 8080, never published.
        env=env,
        secret_env=secret_env,
        files=(ConfigFile(BACKUP_CONFIG_PATH, render_backup_yaml(backup_yaml_settings(config))),),
        # Alpine-based with curl.
        healthcheck=HealthCheck(
            test=(
                "CMD",
                "curl",
                "-fsS",
                "-o",
                "/dev/null",
                f"http://127.0.0.1:{BACKUP_API_PORT}/api/v1/hello",
            ),
            timeout="5s",
            start_period="10s",
        ),
        # The scheduler turns healthy only after its entrypoint made sure the backup bucket exists
        # (backup/scheduler/entrypoint.sh), so the REST API never serves a platform without it: its list
        # and create would otherwise make the bucket only as a side effect of milvus-backup's own calls.
        depends_on=("milvus", "minio", "backup-scheduler"),
    )


def backup_yaml_settings(
    config: PlatformConfig, milvus_host: str = MILVUS_HOST, minio_host: str = MINIO_HOST
) -> BackupYamlSettings:
    """Where milvus-backup finds Milvus, Milvus's data and the backup bucket: by default on the platform's
    Docker network; the Kubernetes target passes its Service names."""
    return BackupYamlSettings(
        bucket=config.minio.bucket,
        root_path=config.minio.root_path,
        backup_bucket=config.minio.backup_bucket,
        backup_root_path=config.minio.backup_root_path,
        auth_enabled=config.milvus.auth_enabled,
        milvus_host=milvus_host,
        milvus_port=MILVUS_GRPC_PORT,
        milvus_http_port=MILVUS_HTTP_PORT,
        minio_host=minio_host,
        minio_port=MINIO_API_PORT,
        minio_region=config.minio.region,
    )


def backup_scheduler(config: PlatformConfig, credentials: Credentials) -> ServiceSpec:
    """crond running milvus-backup, etcd snapshots and the off-host copy on the configured schedule."""
    auth = config.milvus.auth_enabled
    return scheduler_spec(
        config.backup,
        backup_yaml_settings(config),
        minio_access_key=credentials.minio_user,
        minio_secret_key=credentials.minio_password,
        milvus_user=MILVUS_ROOT_USER if auth else None,
        milvus_password=credentials.milvus_password if auth else None,
        backup_image=config.images.backup,
        etcd_image=config.images.etcd,
        minio_image=config.images.minio,
        depends_on=("etcd", "minio", "milvus"),
    )


def platform_services(config: PlatformConfig, credentials: Credentials) -> tuple[ServiceSpec, ...]:
    """Every service, dependencies before dependents."""
    return (
        etcd(config),
        minio(config, credentials),
        milvus(config, credentials),
        attu(config),
        backup_scheduler(config, credentials),  # before `backup`, which waits for it (bucket made)
        backup(config, credentials),
    )
