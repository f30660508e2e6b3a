"""`DockerHost`: where the platform's containers run, as one explicit docker provider.

- `local`: the Docker engine of the machine running `pulumi up` (DOCKER_HOST or the default socket);
- `ssh`: an existing Docker host, reached with the docker CLI's ssh helper (`ssh://user@host`);
- `proxmox`: a VM that this stack provisions first (`ProxmoxVm`); the provider waits for its readiness gate.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.config import PlatformConfig


class DockerHost(pulumi.ComponentResource):
    provider: docker.Provider

    def __init__(self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("milvus:host:DockerHost", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if config.target == "local":
            self.provider = docker.Provider("docker", opts=child)
        elif config.target == "ssh":
            # Batch mode: fail instead of prompting when the key is not in the SSH agent.
            self.provider = docker.Provider(
                "docker", host=config.docker_host, ssh_opts=["-o", "BatchMode=yes"], opts=child
            )
        else:
            raise NotImplementedError(config.target)
        self.register_outputs({})

    @staticmethod
    def for_target(config: PlatformConfig) -> DockerHost:
        return DockerHost("host", config)
