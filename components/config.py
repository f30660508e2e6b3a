"""Stack config -> one validated, frozen `PlatformConfig`.

`parse(raw, secret_keys)` takes the stack's config as Pulumi hands it to a program (a string per key, JSON
for objects) and either returns a `PlatformConfig` or raises `ConfigError` naming the key, the bad value
(never a secret's) and what would be accepted. The program calls it before declaring any resource, so bad
config never leaves anything half-created. Each section has its own parser; the reading machinery is in
`components/config_reader.py`, the `backup` and `vm` sections in their own modules.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlparse

import pulumi

from components.access.settings import AccessConfig, parse_access
from components.backup.settings import BackupConfig, parse_backup
from components.config_reader import (
    BUCKET_ACCEPTED,
    NAMESPACE,
    ConfigError,
    Secret,
    Section,
    check_bucket_name,
    decode,
    describe,
    namespace_config,
)
from components.images import DEFAULT_IMAGES, check_image_reference, image_parts
from components.kubernetes.settings import KubernetesConfig, parse_kubernetes
from components.topology import NEVER_PUBLISHED
from components.vm_config import VmConfig, parse_vm

TARGETS = ("local", "ssh", "proxmox", "kubernetes")


@dataclass(frozen=True)
class Images:
    etcd: str
    minio: str
    milvus: str
    attu: str
    backup: str


@dataclass(frozen=True)
class MemoryLimits:
    """Container memory limits in MB (pulumi-docker's `memory` unit)."""

    etcd: int
    minio: int
    milvus: int
    attu: int
    backup: int

    def total(self) -> int:
        return self.etcd + self.minio + self.milvus + self.attu + self.backup


# Below these a service does not start or falls over under load; defaults leave room for real work.
MEMORY_MINIMUM_MB = MemoryLimits(etcd=256, minio=512, milvus=4096, attu=256, backup=256)
MEMORY_DEFAULT_MB = MemoryLimits(etcd=1024, minio=2048, milvus=16384, attu=512, backup=512)
SERVICE_TITLES = {
    "etcd": "etcd",
    "minio": "MinIO",
    "milvus": "Milvus standalone",
    "attu": "Attu",
    "backup": "milvus-backup",
}


def _port(key: str, default: int) -> Any:
    return field(default=default, metadata={"key": key})


@dataclass(frozen=True)
class Ports:
    """Host ports, each read from the config key in its metadata. etcd (2379) and the backup REST API
    (8080) are never published, so they have no key."""

    milvus_grpc: int = _port("milvusGrpc", 19530)
    milvus_http: int = _port("milvusHttp", 9091)
    attu: int = _port("attu", 8000)
    minio_api: int = _port("minioApi", 9000)
    minio_console: int = _port("minioConsole", 9001)

    @staticmethod
    def keys() -> dict[str, str]:
        """Config key -> field name."""
        return {f.metadata["key"]: f.name for f in fields(Ports)}


@dataclass(frozen=True)
class MinioSettings:
    root_user: str
    root_password: Secret | None  # None: generated with pulumi-random and kept in state
    region: str
    bucket: str
    root_path: str
    backup_bucket: str
    backup_root_path: str


@dataclass(frozen=True)
class MilvusSettings:
    root_password: Secret | None  # None: generated
    auth_enabled: bool
    access: AccessConfig = field(default_factory=AccessConfig)  # components/access/settings.py


@dataclass(frozen=True)
class PlatformConfig:
    stack: str
    target: str
    docker_host: str | None  # ssh://user@host for target ssh
    publish_address: str  # client-facing ports: Milvus gRPC, Attu, MinIO API
    management_address: str  # operator-only ports: Milvus 9091, MinIO console
    images: Images
    memory: MemoryLimits
    ports: Ports
    minio: MinioSettings
    milvus: MilvusSettings
    protect_data: bool
    backup: BackupConfig
    vm: VmConfig | None  # target proxmox only
    kubernetes: KubernetesConfig | None = None  # target kubernetes only


DEFAULT_MINIO = {
    "rootUser": "milvus-platform",
    "region": "us-east-1",
    "bucket": "a-bucket",
    "rootPath": "files",
    "backupBucket": "milvus-backups",
    "backupRootPath": "backup",
}
MINIO_DEFAULT_CREDENTIAL = "minioadmin"
# MinIO refuses to start with a shorter root user or password (docs/upstream.md).
MINIO_ROOT_USER_MINIMUM = 3
MINIO_ROOT_PASSWORD_MINIMUM = 8
MILVUS_DEFAULT_ROOT_PASSWORD = "Milvus"
# Milvus's own minimum, and bcrypt's: it reads at most 72 bytes (docs/upstream.md).
MILVUS_ROOT_PASSWORD_LENGTHS = (6, 72)
ROOT_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _images(section: Section) -> Images:
    values = {
        name: section.checked_string(
            name,
            getattr(DEFAULT_IMAGES, name),
            check_image_reference,
            "repository:tag with a pinned version (e.g. milvusdb/milvus:v2.5.15), optionally @sha256:<digest>",
        )
        for name in DEFAULT_IMAGES._fields
    }
    section.finish()
    return Images(**values)


def _memory(section: Section) -> MemoryLimits:
    values = {}
    for name in SERVICE_TITLES:
        minimum = getattr(MEMORY_MINIMUM_MB, name)
        values[name] = section.integer(
            name,
            getattr(MEMORY_DEFAULT_MB, name),
            minimum,
            1024 * 1024,
            f" (MB; {SERVICE_TITLES[name]} needs at least {minimum})",
        )
    section.finish()
    return MemoryLimits(**values)


def _ports(section: Section) -> Ports:
    # Ports below 1024 need root on the host (CIS Docker 5.8), so they are refused.
    defaults = Ports()
    values = {
        key: section.integer(key, getattr(defaults, name), 1024, 65535) for key, name in Ports.keys().items()
    }
    section.finish()
    seen: dict[int, str] = {}
    for key, port in values.items():
        if port in NEVER_PUBLISHED:
            raise ConfigError(
                section.key(key), f"is {port}, {NEVER_PUBLISHED[port]}", "any other port from 1024 to 65535"
            )
        if port in seen:
            raise ConfigError(
                section.key(key),
                f"is {port}, the same host port as `{section.key(seen[port])}`",
                "a distinct port per service",
            )
        seen[port] = key
    return Ports(**{Ports.keys()[key]: port for key, port in values.items()})


def _minio_password(section: Section) -> Secret | None:
    password = section.secret_string("rootPassword")
    if password is None:
        return None
    if password.value == MINIO_DEFAULT_CREDENTIAL:
        raise ConfigError(
            section.key("rootPassword"),
            "is MinIO's built-in default password",
            "a long random secret (leave it unset to have one generated)",
        )
    if len(password.value) < MINIO_ROOT_PASSWORD_MINIMUM:
        raise ConfigError(
            section.key("rootPassword"),
            f"is shorter than {MINIO_ROOT_PASSWORD_MINIMUM} characters (MinIO refuses to start)",
            f"a secret of at least {MINIO_ROOT_PASSWORD_MINIMUM} characters (leave it unset to have one generated)",
        )
    return password


def _minio(section: Section) -> MinioSettings:
    def text(name: str) -> str:
        return section.string(name, DEFAULT_MINIO[name])

    root_user = text("rootUser")
    if root_user == MINIO_DEFAULT_CREDENTIAL:
        raise ConfigError(
            section.key("rootUser"),
            f"is MinIO's built-in default {describe(root_user)}",
            "any other user name of 3 or more characters",
        )
    if len(root_user) < MINIO_ROOT_USER_MINIMUM:
        raise ConfigError(
            section.key("rootUser"),
            f"is {describe(root_user)}, shorter than {MINIO_ROOT_USER_MINIMUM} characters (MinIO refuses to start)",
            f"a user name of {MINIO_ROOT_USER_MINIMUM} or more characters",
        )
    password = _minio_password(section)
    buckets = {
        name: section.checked_string(name, DEFAULT_MINIO[name], check_bucket_name, BUCKET_ACCEPTED)
        for name in ("bucket", "backupBucket")
    }
    for name in ("rootPath", "backupRootPath"):
        section.matching(name, DEFAULT_MINIO[name], ROOT_PATH, "a relative object path such as `files`")
    if buckets["bucket"] == buckets["backupBucket"]:
        raise ConfigError(
            section.key("backupBucket"),
            f"is {describe(buckets['bucket'])}, Milvus's own data bucket",
            "a separate bucket for backups",
        )
    settings = MinioSettings(
        root_user=root_user,
        root_password=password,
        region=text("region"),
        bucket=buckets["bucket"],
        root_path=text("rootPath"),
        backup_bucket=buckets["backupBucket"],
        backup_root_path=text("backupRootPath"),
    )
    section.finish()
    return settings


def _milvus(section: Section) -> MilvusSettings:
    password = section.secret_string("rootPassword")
    shortest, longest = MILVUS_ROOT_PASSWORD_LENGTHS
    if password is not None:
        if password.value == MILVUS_DEFAULT_ROOT_PASSWORD:
            raise ConfigError(
                section.key("rootPassword"),
                "is Milvus's built-in default root password",
                f"any other secret of {shortest} to {longest} characters (leave it unset to have one generated)",
            )
        size = len(password.value.encode())  # bytes, as Milvus and bcrypt count
        if not shortest <= size <= longest:
            raise ConfigError(
                section.key("rootPassword"),
                f"has {len(password.value)} characters ({size} bytes in UTF-8)",
                f"a secret of {shortest} to {longest} bytes, ASCII characters (Milvus hashes it with bcrypt, "
                f"which takes at most {longest} bytes)",
            )
    auth = section.boolean("authEnabled", True)
    settings = MilvusSettings(
        root_password=password, auth_enabled=auth, access=parse_access(section.section("access"), auth)
    )
    section.finish()
    return settings


def _docker_host(section: Section, target: str) -> str | None:
    value = section.string("dockerHost")
    if target != "ssh":
        return value
    if value is None:
        raise ConfigError(
            "dockerHost",
            "is missing; target `ssh` needs the Docker host to reach",
            "an ssh URL such as ssh://deploy@10.25.20.19",
        )
    url = urlparse(value)
    if url.scheme != "ssh" or not url.hostname or not url.username:
        raise ConfigError(
            "dockerHost",
            f"is {describe(value)}, not an ssh URL with a user and host",
            "ssh://USER@HOST[:PORT]",
        )
    return value


def _vm(section: Section, memory: MemoryLimits, backup: BackupConfig) -> VmConfig:
    """The `vm` section, checked against what the containers' memory limits add up to."""
    breakdown = {SERVICE_TITLES[name]: getattr(memory, name) for name in SERVICE_TITLES}
    breakdown["backup scheduler"] = backup.memory_mb
    return parse_vm(section, memory.total() + backup.memory_mb, breakdown)


def _default_publish_address(vm: VmConfig | None, values: Mapping[str, Any]) -> str:
    """Loopback, or on target proxmox the VM's static address."""
    if vm is None:
        return "127.0.0.1"
    if vm.static_address is None and "publishAddress" not in values:
        raise ConfigError(
            "publishAddress",
            "is unset, and `vm.ipv4` is dhcp, so the VM's address is not known in advance",
            "the address the DHCP server reserves for the VM, or a static `vm.ipv4`",
        )
    return vm.static_address or "127.0.0.1"


def parse(raw: Mapping[str, Any], secret_keys: Collection[str] = (), stack: str = "dev") -> PlatformConfig:
    """Validate the stack's config. `raw` maps keys without the namespace to values; `secret_keys` are the
    keys (without namespace) whose values were set with `--secret`."""
    values = {key: decode(key, value) for key, value in raw.items()}
    top = Section("", values)

    def part(name: str) -> Section:
        section = top.section(name)
        section.secret = name in secret_keys
        return section

    target = top.string("target", "local")
    if target not in TARGETS:
        raise ConfigError("target", f"is {describe(target)}", " | ".join(TARGETS))
    memory = _memory(part("memoryMb"))
    backup = parse_backup(part("backup"))
    vm = None
    if target == "proxmox":
        vm = _vm(part("vm"), memory, backup)
    elif top.get("vm") is not None:
        raise ConfigError(
            "vm", f"is set, but target is {describe(target)}", "a `vm` section only with target proxmox"
        )
    kubernetes = None
    if target == "kubernetes":
        kubernetes = parse_kubernetes(part("kubernetes"), memory.milvus)
        if backup.offsite is not None:
            raise ConfigError(
                "backup.offsite",
                "is set, but target kubernetes has no off-site copy job yet (docs/kubernetes.md)",
                "no `backup.offsite` with target kubernetes; copy the backup bucket with the cluster's own tools",
            )
    elif top.get("kubernetes") is not None:
        raise ConfigError(
            "kubernetes",
            f"is set, but target is {describe(target)}",
            "a `kubernetes` section only with target kubernetes",
        )
    config = PlatformConfig(
        stack=stack,
        target=target,
        docker_host=_docker_host(top, target),
        publish_address=top.ip_address("publishAddress", _default_publish_address(vm, values)),
        management_address=top.ip_address("managementAddress", "127.0.0.1"),
        images=_images(part("versions")),
        memory=memory,
        ports=_ports(part("ports")),
        minio=_minio(part("minio")),
        milvus=_milvus(part("milvus")),
        protect_data=top.boolean("protectData", True),
        backup=backup,
        vm=vm,
        kubernetes=kubernetes,
    )
    if kubernetes is not None and image_parts(config.images.minio)[1] is None:
        raise ConfigError(
            "versions.minio",
            f"is {describe(config.images.minio)}, a digest without a tag, but on target kubernetes the "
            "operator's MinIO chart writes its image as repository:tag",
            "repository:tag, optionally @sha256:<digest> (e.g. minio/minio:RELEASE.2024-05-28T17-19-04Z)",
        )
    top.finish()
    return config


def from_pulumi() -> PlatformConfig:
    """The running stack's config."""
    raw, secret = namespace_config(NAMESPACE)
    return parse(raw, secret, pulumi.get_stack())
