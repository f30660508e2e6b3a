"""Stack config -> one validated, frozen `PlatformConfig`.

Everything here is pure: `parse(raw, secret_keys)` takes the stack's config as Pulumi hands it to a
program (a string per key, JSON for objects) and either returns a `PlatformConfig` or raises
`ConfigError` naming the key, the bad value (never a secret's) and what would be accepted. The program
calls it before declaring any resource, so bad config never leaves anything half-created.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

import pulumi

from components.images import DEFAULT_IMAGES, check_image_reference

if TYPE_CHECKING:
    from components.backup import BackupConfig
    from components.vm_config import VmConfig

NAMESPACE = "milvus-platform"

T = TypeVar("T")


class ConfigError(pulumi.RunError):
    """A stack config value the platform cannot accept. A `RunError` so Pulumi prints it without a traceback."""

    def __init__(self, key: str, problem: str, accepted: str) -> None:
        self.key = key
        super().__init__(f"config `{NAMESPACE}:{key}` {problem}. Accepted: {accepted}.")


@dataclass(frozen=True)
class Secret:
    """A secret config value. Its repr never shows the value, so it cannot leak through logs or errors."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(****)"


# --------------------------------------------------------------------------------------------------
# Reading raw config with exact key names, so a typo is an error instead of a silently ignored key.
# --------------------------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """A bad value as the error message shows it."""
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


class Section:
    """One config object (or the top level). Every key read is recorded; `finish()` rejects the rest."""

    def __init__(self, path: str, values: Mapping[str, Any], secret: bool = False) -> None:
        self.path = path
        self.values = values
        self.secret = secret
        self._known: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str) -> Any:
        self._known.add(name)
        return self.values.get(name)

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(self.key(name), f"is {describe(value)}, not a non-empty string", "a string")
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int, unit: str = "") -> int:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise ConfigError(
                self.key(name), f"is {describe(value)}", f"an integer from {minimum} to {maximum}{unit}"
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(self.key(name), f"is {describe(value)}", "true or false")

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(self.key(name), f"is {describe(value)}", "a list of non-empty strings")
        return tuple(value)

    def checked_string(self, name: str, default: str, check: Callable[[str], None], accepted: str) -> str:
        """A string that `check` accepts; the ValueError it raises becomes the message's reason."""
        value = self.string(name, default)
        assert value is not None
        try:
            check(value)
        except ValueError as problem:
            raise ConfigError(self.key(name), f"is {describe(value)}: {problem}", accepted) from None
        return value

    def secret_string(self, name: str) -> Secret | None:
        """A value that must have been set with `--secret`; the error never repeats the value."""
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(
                self.key(name), "is not a non-empty string (value not shown)", "a secret string"
            )
        if not self.secret:
            raise ConfigError(
                self.key(name),
                "is stored in plaintext in the stack file",
                f"a secret: `pulumi config set --secret --path {self.key(name)} <value>`, "
                "or leave it unset to have one generated",
            )
        return Secret(value)

    def section(self, name: str) -> Section:
        value = self.get(name)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise ConfigError(
                self.key(name), f"is {describe(value)}, not an object", "an object (YAML mapping)"
            )
        return Section(self.key(name), value, self.secret)

    def finish(self) -> None:
        unknown = sorted(set(self.values) - self._known)
        if unknown:
            where = f"`{NAMESPACE}:{self.path}`" if self.path else f"namespace `{NAMESPACE}`"
            raise ConfigError(
                self.key(unknown[0]),
                f"is not a key this project knows (a typo?) in {where}",
                ", ".join(sorted(self._known)),
            )


def _ip(section: Section, name: str, default: str) -> str:
    value = section.string(name, default)
    assert value is not None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(
            section.key(name),
            f"is {describe(value)}, not an IP address",
            "an IPv4 or IPv6 address, e.g. 127.0.0.1",
        ) from None


# --------------------------------------------------------------------------------------------------
# The platform's settings.
# --------------------------------------------------------------------------------------------------

TARGETS = ("local", "ssh", "proxmox")


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


@dataclass(frozen=True)
class Ports:
    """Host ports. etcd (2379) and the backup REST API (8080) are never published, so they have no key."""

    milvusGrpc: int = 19530
    milvusHttp: int = 9091
    attu: int = 8000
    minioApi: int = 9000
    minioConsole: int = 9001


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


DEFAULT_MINIO = {
    "rootUser": "milvus-platform",
    "region": "us-east-1",
    "bucket": "a-bucket",
    "rootPath": "files",
    "backupBucket": "milvus-backups",
    "backupRootPath": "backup",
}
MINIO_DEFAULT_CREDENTIAL = "minioadmin"
MILVUS_DEFAULT_ROOT_PASSWORD = "Milvus"
BUCKET_NAME = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ROOT_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _images(section: Section) -> Images:
    values = {}
    for name in ("etcd", "minio", "milvus", "attu", "backup"):
        values[name] = section.checked_string(
            name,
            getattr(DEFAULT_IMAGES, name),
            check_image_reference,
            "repository:tag with a pinned version (e.g. milvusdb/milvus:v2.5.15), optionally @sha256:<digest>",
        )
    section.finish()
    return Images(**values)


def _memory(section: Section) -> MemoryLimits:
    values = {}
    for name in ("etcd", "minio", "milvus", "attu", "backup"):
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


# Never published, so a firewall rule or a review can never mistake a service port for them.
RESERVED_PORTS = {2379: "etcd's client port", 8080: "milvus-backup's REST API port"}


def _ports(section: Section) -> Ports:
    # Ports below 1024 need root on the host (CIS Docker 5.8), so they are refused.
    values = {
        name: section.integer(name, getattr(Ports(), name), 1024, 65535)
        for name in Ports.__dataclass_fields__
    }
    section.finish()
    seen: dict[int, str] = {}
    for name, port in values.items():
        if port in RESERVED_PORTS:
            raise ConfigError(
                section.key(name), f"is {port}, {RESERVED_PORTS[port]}", "any other port from 1024 to 65535"
            )
        if port in seen:
            raise ConfigError(
                section.key(name),
                f"is {port}, the same host port as `{section.key(seen[port])}`",
                "a distinct port per service",
            )
        seen[port] = name
    return Ports(**values)


def _minio(section: Section) -> MinioSettings:
    def text(name: str) -> str:
        value = section.string(name, DEFAULT_MINIO[name])
        assert value is not None
        return value

    root_user = text("rootUser")
    if root_user == MINIO_DEFAULT_CREDENTIAL:
        raise ConfigError(
            section.key("rootUser"),
            f"is MinIO's built-in default {describe(root_user)}",
            "any other user name of 3 or more characters",
        )
    if len(root_user) < 3:
        raise ConfigError(
            section.key("rootUser"),
            f"is {describe(root_user)}, shorter than 3 characters (MinIO refuses to start)",
            "a user name of 3 or more characters",
        )
    password = section.secret_string("rootPassword")
    if password is not None:
        if password.value == MINIO_DEFAULT_CREDENTIAL:
            raise ConfigError(
                section.key("rootPassword"),
                "is MinIO's built-in default password",
                "a long random secret (leave it unset to have one generated)",
            )
        if len(password.value) < 8:
            raise ConfigError(
                section.key("rootPassword"),
                "is shorter than 8 characters (MinIO refuses to start)",
                "a secret of at least 8 characters (leave it unset to have one generated)",
            )
    for name in ("bucket", "backupBucket"):
        if not BUCKET_NAME.match(text(name)):
            raise ConfigError(
                section.key(name),
                f"is {describe(text(name))}, not a valid S3 bucket name",
                "3-63 characters of lower-case letters, digits, dots and hyphens",
            )
    for name in ("rootPath", "backupRootPath"):
        if not ROOT_PATH.match(text(name)):
            raise ConfigError(
                section.key(name), f"is {describe(text(name))}", "a relative object path such as `files`"
            )
    if text("bucket") == text("backupBucket"):
        raise ConfigError(
            section.key("backupBucket"),
            f"is {describe(text('bucket'))}, Milvus's own data bucket",
            "a separate bucket for backups",
        )
    settings = MinioSettings(
        root_user=root_user,
        root_password=password,
        region=text("region"),
        bucket=text("bucket"),
        root_path=text("rootPath"),
        backup_bucket=text("backupBucket"),
        backup_root_path=text("backupRootPath"),
    )
    section.finish()
    return settings


def _milvus(section: Section) -> MilvusSettings:
    password = section.secret_string("rootPassword")
    if password is not None:
        if password.value == MILVUS_DEFAULT_ROOT_PASSWORD:
            raise ConfigError(
                section.key("rootPassword"),
                "is Milvus's built-in default root password",
                "any other secret of 6 to 72 characters (leave it unset to have one generated)",
            )
        if not 6 <= len(password.value) <= 72:
            raise ConfigError(
                section.key("rootPassword"),
                f"has {len(password.value)} characters",
                "a secret of 6 to 72 characters (Milvus hashes it with bcrypt, which reads at most 72)",
            )
    settings = MilvusSettings(root_password=password, auth_enabled=section.boolean("authEnabled", True))
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


def _decode(key: str, value: str | Any) -> Any:
    """Pulumi passes objects as JSON strings; scalars stay strings and are typed by their readers."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(key, "is not valid JSON/YAML", "a YAML mapping in the stack file") from None
    return value


def parse(raw: Mapping[str, Any], secret_keys: Collection[str] = (), stack: str = "dev") -> PlatformConfig:
    """Validate the stack's config. `raw` maps keys without the namespace to values; `secret_keys` are the
    keys (without namespace) whose values were set with `--secret`."""
    values = {key: _decode(key, value) for key, value in raw.items()}
    top = Section("", values)

    def part(name: str) -> Section:
        section = top.section(name)
        section.secret = name in secret_keys
        return section

    # Imported here, not at the top: both sections are parsed with this module's readers.
    from components.backup import parse_backup
    from components.vm_config import parse_vm

    target = top.string("target", "local")
    if target not in TARGETS:
        raise ConfigError("target", f"is {describe(target)}", " | ".join(TARGETS))
    assert target is not None
    memory = _memory(part("memoryMb"))
    backup = parse_backup(part("backup"))
    vm = None
    if target == "proxmox":
        breakdown = {SERVICE_TITLES[name]: getattr(memory, name) for name in SERVICE_TITLES}
        breakdown["backup scheduler"] = backup.memory_mb
        vm = parse_vm(part("vm"), memory.total() + backup.memory_mb, breakdown)
    elif top.get("vm") is not None:
        raise ConfigError(
            "vm", f"is set, but target is {describe(target)}", "a `vm` section only with target proxmox"
        )
    default_publish = "127.0.0.1"
    if vm is not None:
        if vm.static_address is None and "publishAddress" not in values:
            raise ConfigError(
                "publishAddress",
                "is unset, and `vm.ipv4` is dhcp, so the VM's address is not known in advance",
                "the address the DHCP server reserves for the VM, or a static `vm.ipv4`",
            )
        default_publish = vm.static_address or default_publish
    config = PlatformConfig(
        stack=stack,
        target=target,
        docker_host=_docker_host(top, target),
        publish_address=_ip(top, "publishAddress", default_publish),
        management_address=_ip(top, "managementAddress", "127.0.0.1"),
        images=_images(part("versions")),
        memory=memory,
        ports=_ports(part("ports")),
        minio=_minio(part("minio")),
        milvus=_milvus(part("milvus")),
        protect_data=top.boolean("protectData", True),
        backup=backup,
        vm=vm,
    )
    top.finish()
    return config


def namespace_config(namespace: str) -> tuple[dict[str, Any], set[str]]:
    """The running stack's keys of one config namespace (without the prefix), and which are secret.
    All of them, not just the ones asked for by name, so unknown keys can be refused."""
    from pulumi.runtime import config as runtime_config

    prefix = f"{namespace}:"
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config._SECRET_KEYS.get()) | set(runtime_config.get_config_secret_keys_env())
    values = {key[len(prefix) :]: value for key, value in merged.items() if key.startswith(prefix)}
    return values, {key[len(prefix) :] for key in secret_keys if key.startswith(prefix)}


def from_pulumi() -> PlatformConfig:
    """The running stack's config."""
    raw, secret = namespace_config(NAMESPACE)
    return parse(raw, secret, pulumi.get_stack())
