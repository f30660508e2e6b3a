"""Rules over the whole stack: memory budget, data protection, health-gated ordering, off-host backups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.common import (
    ADVISORY,
    CONTAINER,
    MANDATORY,
    UNKNOWN,
    VM,
    VM_FIREWALL_OPTIONS,
    VOLUME,
    Resource,
    as_int,
    display,
    env_of,
    of_type,
    role_of,
    setting,
    stack_rule,
)
from policies.container_rules import has_healthcheck

Finding = Iterator[tuple[Resource | None, str]]

MEMORY_SETTINGS = {
    "headroomMb": {
        "type": "integer",
        "minimum": 0,
        "default": 2048,
        "description": "Memory the VM keeps for the OS, Docker and page cache on top of the containers' limits.",
    }
}
# bpg's default for `memory.dedicated` when the block or the field is unset.
PROXMOX_DEFAULT_MEMORY_MB = 512


@stack_rule(
    "vm-memory-covers-containers",
    "The VM's dedicated memory covers the sum of the containers' memory limits plus headroomMb (default 2048).",
    MANDATORY,
    [VM, CONTAINER],
    settings=MEMORY_SETTINGS,
)
def memory_covers_containers(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    containers = list(of_type(resources, CONTAINER))
    # Judge what is known: unknown limits count as 0, so a verdict is never based on a guess upward.
    limits = [as_int(c.props.get("memory")) or 0 for c in containers]
    needed = sum(limits) + int(setting(config, "headroomMb", MEMORY_SETTINGS))
    for vm in of_type(resources, VM):
        memory = vm.props.get("memory")
        if memory is UNKNOWN or (isinstance(memory, dict) and memory.get("dedicated") is UNKNOWN):
            continue
        dedicated = as_int(memory.get("dedicated")) if isinstance(memory, dict) else None
        dedicated = PROXMOX_DEFAULT_MEMORY_MB if dedicated is None else dedicated
        if dedicated < needed:
            yield (
                vm,
                (
                    f"{display(vm)} has {dedicated} MB of dedicated memory, but its {len(containers)} containers may "
                    f"use {sum(limits)} MB plus {needed - sum(limits)} MB headroom = {needed} MB; raise "
                    "`memory.dedicated` or lower the containers' limits."
                ),
            )


@stack_rule(
    "docker-volume-protected",
    "Every Docker volume (the platform's data) is declared with protect=True.",
    MANDATORY,
    [VOLUME],
)
def volume_protected(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    for volume in of_type(resources, VOLUME):
        if not volume.protect:
            yield (
                volume,
                (
                    f"{display(volume)} is not protected, so a `pulumi destroy` or a replace deletes its data; "
                    "declare it with `ResourceOptions(protect=True, retain_on_delete=True)`."
                ),
            )


@stack_rule(
    "vm-firewall-enabled",
    "Every VM has a Proxmox firewall options resource with the firewall enabled.",
    MANDATORY,
    [VM, VM_FIREWALL_OPTIONS],
)
def vm_firewall_enabled(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    options = list(of_type(resources, VM_FIREWALL_OPTIONS))
    for vm in of_type(resources, VM):
        vm_id = as_int(vm.props.get("vmId"))
        mine = [
            o
            for o in options
            if vm.urn in o.dependencies or (vm_id is not None and as_int(o.props.get("vmId")) == vm_id)
        ]
        if not mine:
            yield (
                vm,
                (
                    f"{display(vm)} has no firewall options resource, so the Proxmox firewall is off for it; declare "
                    "`proxmoxve.firewall.OptionsLegacy` for the VM with `enabled=True` and input_policy DROP."
                ),
            )
        for option in mine:
            enabled = option.props.get("enabled")
            if enabled is not UNKNOWN and enabled is not True:
                yield (
                    option,
                    (
                        f'{display(vm)} has its Proxmox firewall disabled (firewall options "{option.name}"); set '
                        "`enabled=True`."
                    ),
                )


def _ancestors(resource: Resource, by_urn: Mapping[str, Resource]) -> set[str]:
    seen: set[str] = set()
    parent = resource.parent
    while parent and parent not in seen:
        seen.add(parent)
        parent = by_urn[parent].parent if parent in by_urn else None
    return seen


@stack_rule(
    "dependency-healthy-before-start",
    "Every container another container depends on has a health check and wait=true, so dependents start "
    "only once it is healthy.",
    ADVISORY,
    [CONTAINER],
)
def dependency_healthy_before_start(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    by_urn = {r.urn: r for r in resources}
    containers = list(of_type(resources, CONTAINER))
    dependents: dict[str, list[str]] = {}
    for dependent in containers:
        for urn in dependent.dependencies:
            # A dependency on a component means every container under it.
            targets = [c for c in containers if c.urn == urn or urn in _ancestors(c, by_urn)]
            for target in targets:
                if target.urn != dependent.urn:
                    dependents.setdefault(target.urn, []).append(dependent.name)
    for urn, names in dependents.items():
        target = by_urn[urn]
        problems = []
        if has_healthcheck(target) is False:
            problems.append("has no health check")
        wait = target.props.get("wait")
        if wait is not UNKNOWN and wait is not True:
            problems.append("is not created with wait=true")
        if problems:
            yield (
                target,
                (
                    f"{display(target)} {' and '.join(problems)}, yet {', '.join(sorted(set(names)))} depend on it "
                    "and may start before it serves; give it a health check and `wait=True`."
                ),
            )


OFFSITE_VARIABLE = "OFFSITE_S3_ENDPOINT"


@stack_rule(
    "offsite-backup-configured",
    f"The stack copies backups off the host: a backup-scheduler container with {OFFSITE_VARIABLE} set.",
    ADVISORY,
    [CONTAINER],
)
def offsite_backup_configured(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    containers = list(of_type(resources, CONTAINER))
    if not containers:
        return
    roles = [role_of(c) for c in containers]
    if any(role is UNKNOWN for role in roles):
        return  # a scheduler may hide behind an unknown label
    schedulers = [c for c, role in zip(containers, roles, strict=True) if role == "backup-scheduler"]
    for scheduler in schedulers:
        env = env_of(scheduler)
        value = env.values.get(OFFSITE_VARIABLE)
        if not env.complete or (isinstance(value, str) and value.strip()):
            return
    where = display(schedulers[0]) if schedulers else "the stack"
    yield (
        (schedulers[0] if schedulers else None),
        (
            f"{where} copies no backup off the host (no backup-scheduler with {OFFSITE_VARIABLE}), so losing the "
            "host loses the backups too; configure an off-site S3 target."
        ),
    )


POLICIES = [
    memory_covers_containers,
    volume_protected,
    vm_firewall_enabled,
    dependency_healthy_before_start,
    offsite_backup_configured,
]
