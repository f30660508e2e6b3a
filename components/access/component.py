"""`MilvusAccess`: root's password, databases, roles with their grants, users and their roles, as Pulumi
resources (components/access/provider.py), the same on every target.

It takes what the platform component gives for any target: where Milvus is and how to get there
(`access_endpoint`), root's password, and the resource that means "Milvus is up" (the Milvus container,
created with wait=True, on Docker; the `Milvus` custom resource on Kubernetes). Order: RootPassword first
(every other resource logs in with its output, so a rotation happens before they connect), databases before
the roles whose grants name them, roles and users before their bindings. Children are named
`{name}-{kind}-{milvus name}`, so renaming a database, role or user in the stack replaces it (a new name
is another object in Milvus), and a password left unset is generated once with pulumi-random and kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from components.access.privileges import BUILT_IN_ROLES
from components.access.provider import Database, Role, RoleBinding, RootPassword, User
from components.access.settings import AccessConfig, access_summary
from components.config import PlatformConfig
from components.host_keys import known_hosts_path, strict_ssh_options

# How long `pulumi up` waits for Milvus to answer. On Docker the container is healthy before anything here
# runs; on Kubernetes the `Milvus` resource is applied long before the operator has Milvus up.
DOCKER_WAIT_S = 120.0
KUBERNETES_WAIT_S = 900.0


@dataclass(frozen=True)
class SshRoute:
    """The Docker host as the docker provider reaches it: the access resources tunnel the same way."""

    host: pulumi.Input[str]  # ssh://user@host[:port]
    options: tuple[str, ...]


def docker_ssh_route(config: PlatformConfig, host_url: pulumi.Input[str]) -> SshRoute | None:
    """Targets ssh and proxmox: the tunnel's way in, with the docker provider's own ssh options
    (components/docker_host.py); target local: none, Milvus is on this machine."""
    if config.target == "ssh":
        return SshRoute(host_url, tuple(strict_ssh_options(None)))
    if config.target == "proxmox":
        return SshRoute(host_url, tuple(strict_ssh_options(known_hosts_path(config.stack))))
    return None


def endpoint_input(
    uri: pulumi.Input[str], route: SshRoute | None = None, wait_seconds: float = DOCKER_WAIT_S
) -> dict[str, Any]:
    """The `endpoint` input of every access resource (components/access/connection.py `Endpoint`)."""
    return {
        "uri": uri,
        "sshHost": route.host if route else None,
        "sshOptions": list(route.options) if route else [],
        "waitSeconds": wait_seconds,
    }


@dataclass
class MilvusAccessArgs:
    access: AccessConfig
    """The validated `milvus.access` section."""
    endpoint: pulumi.Input[Mapping[str, Any]]
    """From the platform component: `endpoint_input(...)`."""
    milvus_uri: pulumi.Input[str]
    """What clients dial (the `milvusUri` output), for the per-user logins."""
    root_password: pulumi.Input[str]
    """Root's password as the stack declares it (config secret or generated)."""
    ready: Sequence[pulumi.Resource]
    """Milvus is up once these exist: the container (Docker) or the `Milvus` resource (Kubernetes)."""


class MilvusAccess(pulumi.ComponentResource):
    """Root's password kept as the stack says, and the declared databases, roles, users and bindings."""

    root_password: RootPassword
    """Root's password in Milvus, rotated from the one in state when the stack's changes."""
    databases: dict[str, Database]
    roles: dict[str, Role]
    users: dict[str, User]
    bindings: dict[tuple[str, str], RoleBinding]
    logins: dict[str, pulumi.Output[dict[str, str]]]
    """User -> {uri, user, password}, secret: what a team lead hands over (stack output `milvusLogin_<user>`)."""
    summary: dict[str, Any]
    """Databases, roles with grants, users with roles; no password (stack output `milvusAccess`)."""

    def __init__(self, name: str, args: MilvusAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("milvus:access:MilvusAccess", name, None, opts)
        access = args.access
        ready = list(args.ready)

        def child(*after: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[*ready, *after])

        self.root_password = RootPassword(
            f"{name}-root-password", args.endpoint, args.root_password, opts=child()
        )
        root = self.root_password.password  # after a rotation, never before
        self.databases = {
            db.name: Database(
                f"{name}-database-{db.name}", args.endpoint, root, db.name, db.drop_collections, opts=child()
            )
            for db in access.databases
        }
        self.roles = {}
        for role in access.roles:
            needs = [self.databases[g.database] for g in role.grants if g.database in self.databases]
            self.roles[role.name] = Role(
                f"{name}-role-{role.name}",
                args.endpoint,
                root,
                role.name,
                list(role.grants),
                opts=child(*needs),
            )
        self.users, self.bindings, self.logins = {}, {}, {}
        for user in access.users:
            password = self._password(name, user.name, user.password.value if user.password else None)
            self.users[user.name] = User(
                f"{name}-user-{user.name}", args.endpoint, root, user.name, password, opts=child()
            )
            for role_name in user.roles:
                role_resources = [] if role_name in BUILT_IN_ROLES else [self.roles[role_name]]
                self.bindings[(user.name, role_name)] = RoleBinding(
                    f"{name}-binding-{user.name}-{role_name}",
                    args.endpoint,
                    root,
                    user.name,
                    role_name,
                    opts=child(self.users[user.name], *role_resources),
                )
            self.logins[user.name] = pulumi.Output.secret(_login(args.milvus_uri, user.name, password))
        self.summary = access_summary(access)
        self.register_outputs({"summary": self.summary, "logins": self.logins})

    def _password(self, name: str, user: str, given: str | None) -> pulumi.Output[str]:
        """The configured secret, or one generated once and kept in state (alphanumeric)."""
        if given is not None:
            return pulumi.Output.secret(given)
        generated = random.RandomPassword(
            f"{name}-user-{user}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        return generated.result


def _login(uri: pulumi.Input[str], user: str, password: pulumi.Input[str]) -> pulumi.Output[dict[str, str]]:
    def login(values: list[str]) -> dict[str, str]:
        return {"uri": values[0], "user": user, "password": values[1]}

    return pulumi.Output.all(uri, password).apply(login)
