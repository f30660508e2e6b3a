"""Which ports each role may publish, and where (CIS Docker 5.9: only the ports the service needs).

The role is the container's `milvus-platform.role` label, or what its image implies when unlabelled.
etcd (no authentication of its own here) and milvus-backup's REST API (none at all) are never published;
Milvus's 9091 (health, metrics, management, WebUI) and MinIO's console go only to management addresses;
Attu (no login of its own) only to the addresses configured for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.common import (
    CONTAINER,
    MANDATORY,
    UNKNOWN,
    Port,
    Resource,
    describe_port,
    display,
    is_wildcard,
    ports_of,
    resource_rule,
    role_of,
    setting,
)


@resource_rule(
    "etcd-not-published",
    "CIS Docker 5.9: etcd publishes no port on the host (only Milvus and milvus-backup talk to it).",
    MANDATORY,
    [CONTAINER],
    cis="5.9",
)
def etcd_not_published(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "etcd":
        return
    for port in ports_of(container):
        yield (
            f"{display(container)} publishes etcd on {describe_port(port)}; remove the port: Milvus and "
            "milvus-backup reach etcd over the platform network."
        )


@resource_rule(
    "backup-api-not-published",
    "CIS Docker 5.9: milvus-backup's REST API (8080, no authentication) publishes no port on the host.",
    MANDATORY,
    [CONTAINER],
    cis="5.9",
)
def backup_api_not_published(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) not in ("backup", "backup-scheduler"):
        return
    for port in ports_of(container):
        yield (
            f"{display(container)} publishes milvus-backup's unauthenticated API on {describe_port(port)}; "
            "remove the port and run backups with the CLI or over the platform network."
        )


def _addresses(description: str) -> dict[str, dict[str, Any]]:
    return {
        "allowedAddresses": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["127.0.0.1"],
            "description": description,
        }
    }


def _off_limits(port: Port, allowed: list[str]) -> bool:
    if port.ip is UNKNOWN:
        return False
    return is_wildcard(port.ip) or port.ip not in allowed


MANAGEMENT_SETTINGS = _addresses("Management addresses Milvus's 9091 may be published on.")


@resource_rule(
    "milvus-management-port-restricted",
    "CIS Docker 5.9: Milvus's health/metrics/management port 9091 is published only on an allowed "
    "management address (default 127.0.0.1).",
    MANDATORY,
    [CONTAINER],
    cis="5.9",
    settings=MANAGEMENT_SETTINGS,
)
def milvus_management_port(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "milvus":
        return
    allowed = list(setting(config, "allowedAddresses", MANAGEMENT_SETTINGS))
    for port in ports_of(container):
        if port.internal == 9091 and _off_limits(port, allowed):
            yield (
                f"{display(container)} publishes Milvus's management port on {describe_port(port)}; bind it to "
                f"a management address ({', '.join(allowed)}) or add the address to allowedAddresses."
            )


CONSOLE_SETTINGS = _addresses("Management addresses the MinIO console (9001) may be published on.")


@resource_rule(
    "minio-console-restricted",
    "CIS Docker 5.9: the MinIO console (9001) is published only on an allowed management address "
    "(default 127.0.0.1).",
    MANDATORY,
    [CONTAINER],
    cis="5.9",
    settings=CONSOLE_SETTINGS,
)
def minio_console_restricted(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "minio":
        return
    allowed = list(setting(config, "allowedAddresses", CONSOLE_SETTINGS))
    for port in ports_of(container):
        if port.internal == 9001 and _off_limits(port, allowed):
            yield (
                f"{display(container)} publishes the MinIO console on {describe_port(port)}; bind it to "
                f"a management address ({', '.join(allowed)}) or add the address to allowedAddresses."
            )


ATTU_SETTINGS = _addresses("Trusted addresses Attu may be published on (it has no login of its own).")


@resource_rule(
    "attu-address-allowed",
    "CIS Docker 5.9: Attu, which has no login of its own, is published only on an allowed address "
    "(default 127.0.0.1).",
    MANDATORY,
    [CONTAINER],
    cis="5.9",
    settings=ATTU_SETTINGS,
)
def attu_address_allowed(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "attu":
        return
    allowed = list(setting(config, "allowedAddresses", ATTU_SETTINGS))
    for port in ports_of(container):
        if _off_limits(port, allowed):
            yield (
                f"{display(container)} publishes Attu on {describe_port(port)}, and Attu has no login; bind "
                f"it to a trusted address ({', '.join(allowed)}) or add the address to allowedAddresses."
            )


POLICIES = [
    etcd_not_published,
    backup_api_not_published,
    milvus_management_port,
    minio_console_restricted,
    attu_address_allowed,
]
