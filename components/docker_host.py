"""`DockerHost`: where the platform's containers run, as one explicit docker provider.

- `local`: the Docker engine of the machine running `pulumi up` (DOCKER_HOST or the default socket);
- `ssh`: an existing Docker host, reached with the docker CLI's ssh helper (`ssh://user@host`);
- `proxmox`: a VM that this stack provisions first (`ProxmoxVm`); the provider waits for its readiness gate.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.config import PlatformConfig
from components.proxmox_vm import ProxmoxVm, ProxmoxVmArgs, firewall_openings

# The docker CLI's ssh helper: fail instead of prompting; trust a new VM's host key on first contact
# (the readiness gate already logged in to that address).
SSH_OPTIONS = ["-o", "BatchMode=yes"]


class DockerHost(pulumi.ComponentResource):
    provider: docker.Provider
    url: pulumi.Output[str]  # how the docker CLI reaches the same engine (for tools.restore)

    def __init__(self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("milvus:host:DockerHost", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vm: ProxmoxVm | None = None
        if config.target == "local":
            self.provider = docker.Provider("docker", opts=child)
            self.url = pulumi.Output.from_input("local")
        elif config.target == "ssh":
            self.provider = docker.Provider(
                "docker", host=config.docker_host, ssh_opts=SSH_OPTIONS, opts=child
            )
            self.url = pulumi.Output.from_input(config.docker_host or "")
        elif config.target == "proxmox" and config.vm is not None:
            self.vm = ProxmoxVm(
                "docker-host",
                ProxmoxVmArgs(
                    vm=config.vm,
                    protect=config.protect_data,
                    openings=firewall_openings(
                        config.ports, config.vm, management=config.management_address != "127.0.0.1"
                    ),
                ),
                opts=child,
            )
            # The URL resolves only after the readiness gate, so no docker call happens before Docker is up.
            self.provider = docker.Provider(
                "docker",
                host=self.vm.docker_host_url,
                ssh_opts=[*SSH_OPTIONS, "-o", "StrictHostKeyChecking=accept-new"],
                opts=child,
            )
            self.url = self.vm.docker_host_url
        else:
            raise ValueError(f"target {config.target!r} without its settings")  # config.parse prevents this
        self.register_outputs({"url": self.url})

    @staticmethod
    def for_target(config: PlatformConfig) -> DockerHost:
        return DockerHost("host", config)
