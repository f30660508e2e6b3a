"""Shared fixtures for the Proxmox target's tests: the lab's `vm` values and a recording Pulumi mock."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from components.config import Section
from components.vm_config import VmConfig, parse_vm

# How the engine marks a secret value on the wire (the "special signature" for secrets in sdk/proto).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# The defaults of `milvus-platform:memoryMb` (etcd 1024, MinIO 2048, Milvus 16384, Attu 512, backup 512).
CONTAINERS_MB = 20480


def ed25519_public_key(seed: str, comment: str = "ops@lab") -> str:
    """A well-formed OpenSSH ed25519 public key line (32 bytes derived from `seed`)."""
    kind = b"ssh-ed25519"
    blob = (
        struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + hashlib.sha256(seed.encode()).digest()
    )
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def lab_vm_values(**overrides: Any) -> dict[str, Any]:
    """The lab's VM 2017 as docs/proxmox.md gives it, with memory that passes the check."""
    values: dict[str, Any] = {
        "node": "node07",
        "vmId": 2017,
        "name": "proj-milvus01",
        "templateVmId": 9024,
        "cpuSockets": 2,
        "cpuCores": 4,
        "cpuType": "host",
        "memoryMb": 24576,
        "memoryFloatingMb": 24576,
        "datastore": "nvmethin01",
        "systemDiskGb": 32,
        "dataDiskGb": 250,
        "bridge": "vmbr1",
        "vlanId": 20,
        "ipv4": "10.25.20.19/24",
        "gateway": "10.25.20.1",
        "dnsServers": ["10.25.20.1"],
        "sshUser": "deploy",
        "sshPublicKeys": [ed25519_public_key("lab-admin")],
        "adminCidrs": ["10.25.10.0/24"],
        "clientCidrs": ["10.25.20.0/24", "10.25.30.0/24"],
        "tags": ["milvus", "proj"],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def lab_vm(**overrides: Any) -> VmConfig:
    return parse_vm(Section("vm", lab_vm_values(**overrides)), CONTAINERS_MB)


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    provider: str  # "urn::id" reference, "" for the default provider
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    inputs: dict[str, Any]  # as the mocks see them: secrets are {SIG_KEY: SECRET_SIG, "value": ...}
    wire: dict[str, Any]  # inputs as sent to the engine: secrets still wrapped in the secret signature


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping every RegisterResource request (options included)."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name, overridden
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    provider=request.provider,
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    dependencies=list(request.dependencies),
                    inputs=rpc.deserialize_properties(request.object),
                    wire=json_format.MessageToDict(request.object),
                )
            )
        return response

    def one(self, type_: str) -> Registration:
        found = [r for r in self.registrations if r.type == type_]
        assert len(found) == 1, f"{type_}: {[r.name for r in self.registrations]}"
        return found[0]


class LabMocks(pulumi_mocks.Mocks):
    """Answers like the providers would: the guest agent reports lo, the NIC and docker0 for DHCP VMs."""

    def __init__(self, agent_addresses: list[list[str]] | None = None) -> None:
        self.agent_addresses = agent_addresses or [["127.0.0.1"], ["10.25.20.77"], ["172.17.0.1"]]

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        state = dict(args.inputs)
        if args.typ == "proxmoxve:index/vmLegacy:VmLegacy":
            state["networkInterfaceNames"] = ["lo", "ens18", "docker0"]
            state["ipv4Addresses"] = self.agent_addresses
        if args.typ == "proxmoxve:index/fileLegacy:FileLegacy":
            raw = args.inputs["sourceRaw"]
            return f"{args.inputs['datastoreId']}:snippets/{raw['fileName']}", state
        if args.typ == "command:remote:Command":
            state["stdout"] = "ready: docker 27.5.1, data root /srv/milvus-data/docker"
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


def run(build: Callable[[], Any], mocks: LabMocks | None = None) -> tuple[RecordingMonitor, dict[str, Any]]:
    """Declare resources with `build()` under mocks; resolve the outputs it returns (a dict of Outputs)."""
    mocks = mocks or LabMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="milvus-platform", stack="dev", preview=False, monitor=monitor)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> pulumi.Output[Any]:
        outputs: dict[str, pulumi.Output[Any]] = build()
        return pulumi.Output.all(**outputs).apply(resolved.update)

    body()
    return monitor, resolved


def walk_strings(value: Any, inside_secret: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string in a wire-format value, and whether it sits inside a secret wrapper."""
    if isinstance(value, dict):
        secret = inside_secret or value.get(SIG_KEY) == SECRET_SIG
        for item in value.values():
            yield from walk_strings(item, secret)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item, inside_secret)
    elif isinstance(value, str):
        yield value, inside_secret


def plain(value: Any) -> Any:
    """`value` with every secret wrapper replaced by the value it wraps."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
