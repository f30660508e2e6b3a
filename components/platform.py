"""`MilvusPlatform`: what runs on the Docker host — network, data volumes, credentials, services, outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components import services
from components.access.component import SshRoute, endpoint_input
from components.config import PlatformConfig
from components.config_reader import Secret
from components.naming import renamed_from
from components.service import Service, ServiceArgs
from components.topology import BACKUP_API_PORT, BACKUP_HOST, DATA_LABEL, MILVUS_ROOT_USER, NETWORK_NAME

# Logical name -> Docker volume name. Stateful: protected, and kept on the host if removed from the program.
DATA_VOLUMES = {
    "etcd-data": "milvus-etcd-data",
    "minio-data": "milvus-minio-data",
    "milvus-data": "milvus-data",
    "etcd-snapshots": "milvus-etcd-snapshots",
    "backup-status": "milvus-backup-status",
}


@dataclass
class MilvusPlatformArgs:
    """The validated stack config. The docker provider comes through `opts.providers`."""

    config: PlatformConfig
    ssh_route: SshRoute | None = None
    """How `pulumi up` reaches the Docker host (targets ssh, proxmox), to tunnel to Milvus for access."""


class MilvusPlatform(pulumi.ComponentResource):
    """Network, data volumes, credentials and the six hardened services on one Docker host."""

    milvus_uri: pulumi.Output[str]
    """gRPC (and REST) endpoint for clients, e.g. http://10.25.20.19:19530."""
    milvus_health_url: pulumi.Output[str]
    """Milvus's health endpoint on the management address, e.g. http://127.0.0.1:9091/healthz."""
    attu_url: pulumi.Output[str]
    """The Attu web UI."""
    minio_api_url: pulumi.Output[str]
    """MinIO's S3 API."""
    minio_console_url: pulumi.Output[str]
    """MinIO's console on the management address."""
    backup_api_url: pulumi.Output[str]
    """milvus-backup's REST API, on the platform network only (never published)."""
    minio_root_user: pulumi.Output[str]
    """MinIO's root user."""
    minio_root_password: pulumi.Output[str]
    """MinIO's root password (secret)."""
    milvus_user: pulumi.Output[str] | None
    """Milvus's root user; None when authentication is off."""
    milvus_password: pulumi.Output[str] | None
    """Milvus's root password (secret); None when authentication is off."""
    access_endpoint: dict[str, pulumi.Input[Any]]
    """How the machine running `pulumi up` reaches Milvus (components/access): `milvus_uri`, through an SSH
    tunnel to the Docker host on targets ssh and proxmox."""
    milvus_ready: pulumi.Resource
    """Milvus is up once this exists: its container, created with wait=True (healthy)."""
    services: dict[str, Service]
    """Service key (role) -> its image and container."""

    def __init__(
        self, name: str, args: MilvusPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("milvus:platform:MilvusPlatform", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        credentials = services.Credentials(
            minio_user=config.minio.root_user,
            minio_password=self._password(name, "minio-root-password", config.minio.root_password),
            milvus_password=self._password(name, "milvus-root-password", config.milvus.root_password),
        )

        network = docker.Network(
            f"{name}-network",
            name=NETWORK_NAME,
            driver="bridge",
            opts=pulumi.ResourceOptions.merge(child, renamed_from("network")),
        )
        # Stateful: protected against delete and replace, and kept on the host if removed from the program.
        keep = pulumi.ResourceOptions(protect=config.protect_data, retain_on_delete=config.protect_data)
        volumes = {
            key: docker.Volume(
                f"{name}-{key}",
                name=volume_name,
                labels=[docker.VolumeLabelArgs(label=DATA_LABEL, value=key)],
                opts=pulumi.ResourceOptions.merge(
                    pulumi.ResourceOptions.merge(child, keep), renamed_from(key)
                ),
            )
            for key, volume_name in DATA_VOLUMES.items()
        }

        self.services = {}
        for spec in services.platform_services(config, credentials):
            self.services[spec.key] = Service(
                f"{name}-{spec.key}",
                ServiceArgs(
                    spec=spec,
                    network=network,
                    volumes=volumes,
                    depends_on=[self.services[key].container for key in spec.depends_on],
                ),
                opts=pulumi.ResourceOptions.merge(child, renamed_from(spec.key)),
            )

        publish, manage, ports = config.publish_address, config.management_address, config.ports
        self.milvus_uri = pulumi.Output.from_input(f"http://{_host(publish)}:{ports.milvus_grpc}")
        self.milvus_health_url = pulumi.Output.from_input(
            f"http://{_host(manage)}:{ports.milvus_http}/healthz"
        )
        self.attu_url = pulumi.Output.from_input(f"http://{_host(publish)}:{ports.attu}")
        self.minio_api_url = pulumi.Output.from_input(f"http://{_host(publish)}:{ports.minio_api}")
        self.minio_console_url = pulumi.Output.from_input(f"http://{_host(manage)}:{ports.minio_console}")
        # Not published: reachable from containers on the platform network (or through an SSH tunnel).
        self.backup_api_url = pulumi.Output.from_input(f"http://{BACKUP_HOST}:{BACKUP_API_PORT}/api/v1")
        self.minio_root_user = pulumi.Output.from_input(config.minio.root_user)
        self.minio_root_password = pulumi.Output.secret(credentials.minio_password)
        auth = config.milvus.auth_enabled
        self.milvus_user = pulumi.Output.from_input(MILVUS_ROOT_USER) if auth else None
        self.milvus_password = pulumi.Output.secret(credentials.milvus_password) if auth else None
        self.access_endpoint = endpoint_input(self.milvus_uri, args.ssh_route)
        self.milvus_ready = self.services["milvus"].container
        self.register_outputs(
            {
                "milvus_uri": self.milvus_uri,
                "milvus_health_url": self.milvus_health_url,
                "attu_url": self.attu_url,
                "minio_api_url": self.minio_api_url,
                "minio_console_url": self.minio_console_url,
                "backup_api_url": self.backup_api_url,
                "minio_root_user": self.minio_root_user,
                "minio_root_password": self.minio_root_password,
                "milvus_user": self.milvus_user,
                "milvus_password": self.milvus_password,
            }
        )

    def _password(self, name: str, key: str, given: Secret | None) -> pulumi.Output[str]:
        """The configured secret, or one generated once and kept in state (alphanumeric: safe in env and YAML)."""
        if given is not None:
            return pulumi.Output.secret(given.value)
        generated = random.RandomPassword(
            f"{name}-{key}",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), renamed_from(key)),
        )
        return generated.result


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
