"""Rules for the Proxmox VM that hosts the platform (`proxmoxve:index/vmLegacy:VmLegacy`, bpg semantics).

Provider defaults matter here: the agent, NIC firewalls and protection are off unless set, and the CPU
type is qemu64, so an unset input is judged as its default.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    VM,
    Resource,
    display,
    known_list,
    resource_rule,
    setting,
)


def _block(vm: Resource, key: str) -> Any:
    """A nested input block: a dict, UNKNOWN, or {} when unset."""
    value = vm.props.get(key)
    if value is UNKNOWN:
        return UNKNOWN
    return value if isinstance(value, dict) else {}


@resource_rule(
    "vm-guest-agent-enabled",
    "The VM has the QEMU guest agent enabled (IP discovery, clean shutdown, consistent backups).",
    ADVISORY,
    [VM],
)
def guest_agent_enabled(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    agent = _block(vm, "agent")
    if agent is UNKNOWN or agent.get("enabled") is UNKNOWN:
        return
    if agent.get("enabled") is not True:
        yield (
            f"{display(vm)} does not enable the QEMU guest agent; set `agent.enabled=True` and install "
            "qemu-guest-agent through cloud-init."
        )


@resource_rule(
    "vm-nic-firewall-enabled",
    "Every network device of the VM has the Proxmox firewall on.",
    MANDATORY,
    [VM],
)
def nic_firewall_enabled(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for index, device in enumerate(known_list(vm.get("networkDevices"))):
        if not isinstance(device, dict) or device.get("firewall") is UNKNOWN:
            continue
        if device.get("firewall") is not True:
            bridge = device.get("bridge") if isinstance(device.get("bridge"), str) else "?"
            yield (
                f"{display(vm)} network device {index} (bridge {bridge}) has the firewall off; set "
                "`firewall=True` on it."
            )


@resource_rule(
    "vm-ssh-keys-only",
    "The VM's cloud-init user logs in with SSH keys only: keys set, no password.",
    MANDATORY,
    [VM],
)
def ssh_keys_only(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    initialization = _block(vm, "initialization")
    if initialization is UNKNOWN:
        return
    account = initialization.get("userAccount")
    if account is UNKNOWN:
        return
    account = account if isinstance(account, dict) else {}
    # With custom user data (bpg refuses it together with user_account) the keys live in that snippet,
    # which components/cloud_init.py renders with ssh_pwauth false and keys only (tested there); a
    # password set here would still be applied, so that part is checked either way.
    user_data = initialization.get("userDataFileId")
    custom_user_data = user_data is UNKNOWN or bool(user_data)
    keys = account.get("keys")
    if (
        not custom_user_data
        and keys is not UNKNOWN
        and not [k for k in known_list(keys) if k is UNKNOWN or (isinstance(k, str) and k)]
    ):
        yield (
            f"{display(vm)} gives its cloud-init user no SSH key; set `initialization.user_account.keys` "
            "to the operators' public keys."
        )
    password = account.get("password")
    if isinstance(password, str) and password:
        yield (
            f"{display(vm)} sets a password for its cloud-init user; remove "
            "`initialization.user_account.password` and log in with SSH keys."
        )


DATASTORE_SETTINGS = {
    "allowedDatastores": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["nvmethin01"],
        "description": "Datastores the VM's disks may live on (default: the lab's NVMe thin pool).",
    }
}


def _datastores(vm: Resource) -> Iterator[tuple[str, Any]]:
    """(which disk, datastore id) of every disk-like block of the VM."""
    for disk in known_list(vm.get("disks")):
        if isinstance(disk, dict):
            name = disk.get("interface") if isinstance(disk.get("interface"), str) else "disk"
            yield f"disk {name}", disk.get("datastoreId")
    for key, title in (
        ("efiDisk", "EFI disk"),
        ("tpmState", "TPM state"),
        ("initialization", "cloud-init drive"),
    ):
        block = _block(vm, key)
        if block is not UNKNOWN:
            yield title, block.get("datastoreId")


@resource_rule(
    "vm-datastore-allowed",
    "Every disk of the VM lives on a datastore from allowedDatastores.",
    ADVISORY,
    [VM],
    settings=DATASTORE_SETTINGS,
)
def datastore_allowed(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = list(setting(config, "allowedDatastores", DATASTORE_SETTINGS))
    for title, datastore in _datastores(vm):
        if isinstance(datastore, str) and datastore not in allowed:
            yield (
                f'{display(vm)} puts its {title} on datastore "{datastore}"; use one of '
                f"{', '.join(allowed)} or add it to allowedDatastores."
            )


@resource_rule(
    "vm-disk-backup-enabled",
    "The VM's disks keep the Proxmox backup flag on.",
    ADVISORY,
    [VM],
)
def disk_backup_enabled(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for disk in known_list(vm.get("disks")):
        if isinstance(disk, dict) and disk.get("backup") is False:
            name = disk.get("interface") if isinstance(disk.get("interface"), str) else "a disk"
            yield f"{display(vm)} excludes {name} from Proxmox backups; remove `backup=False`."


@resource_rule(
    "vm-protection-enabled",
    "The VM has Proxmox protection on, so it cannot be removed by accident.",
    MANDATORY,
    [VM],
)
def protection_enabled(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    protection = vm.props.get("protection")
    if protection is not UNKNOWN and protection is not True:
        yield (
            f"{display(vm)} has Proxmox protection off, so its disks (the vector data) can be removed by "
            "accident; set `protection=True`."
        )


GENERIC_CPU_TYPES = ("qemu64", "kvm64")


@resource_rule(
    "vm-cpu-type",
    "The VM uses a modern CPU type (x86-64-v2-AES or host), not the generic qemu64/kvm64 default.",
    ADVISORY,
    [VM],
)
def cpu_type(vm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    cpu = _block(vm, "cpu")
    if cpu is UNKNOWN or cpu.get("type") is UNKNOWN:
        return
    kind = cpu.get("type") or "qemu64"
    if kind in GENERIC_CPU_TYPES:
        yield (
            f'{display(vm)} uses CPU type "{kind}", which hides the instruction sets Milvus\'s vector search '
            'uses; set `cpu.type` to "x86-64-v2-AES" (or "host" without live migration).'
        )


POLICIES = [
    guest_agent_enabled,
    nic_firewall_enabled,
    ssh_keys_only,
    datastore_allowed,
    disk_backup_enabled,
    protection_enabled,
    cpu_type,
]
