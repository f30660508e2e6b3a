"""Milvus access: who may do what in Milvus, judged from the access resources a stack declares
(components/access: `pulumi-python:dynamic/milvus:<Kind>`).

A user's power is what its bindings give it: a binding to the built-in `admin` role, or to a role holding a
grant on every object of every database (`objectName: "*"` and `database: "*"`), makes it a superuser in
all but name; a user with no binding at all is a login nobody reviewed the purpose of. A database declared
with `dropCollections` loses its collections when it is removed from the stack, and root's password must not
be Milvus's well-known default. Each finding is reported on the user (or database, or root password)
resource, so an exemption names the user (`{"resource": "alice", "reason": "..."}`). A value unknown during
preview never counts: an unknown user or role in a binding could be anyone, so no user is judged by it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.common import MANDATORY, UNKNOWN, Resource, of_type, resource_rule, stack_rule

Finding = Iterator[tuple[Resource | None, str]]

# The types components/access/provider.py declares; tests/policies/test_access_rules.py pins the two.
ACCESS_TYPE_PREFIX = "pulumi-python:dynamic/milvus:"
ROOT_PASSWORD = f"{ACCESS_TYPE_PREFIX}RootPassword"
DATABASE = f"{ACCESS_TYPE_PREFIX}Database"
ROLE = f"{ACCESS_TYPE_PREFIX}Role"
USER = f"{ACCESS_TYPE_PREFIX}User"
ROLE_BINDING = f"{ACCESS_TYPE_PREFIX}RoleBinding"

ADMIN_ROLE = "admin"  # Milvus's built-in role with every privilege (pkg/util/constant.go RoleAdmin)
ANY = "*"
MILVUS_DEFAULT_ROOT_PASSWORD = "Milvus"
MILVUS_PASSWORD_MINIMUM = 6


def _name(resource: Resource, key: str = "name") -> Any:
    return resource.props.get(key, UNKNOWN)


def _users(resources: list[Resource]) -> dict[str, Resource]:
    """Declared users by their Milvus name (users whose name is unknown are left out)."""
    return {n: u for u in of_type(resources, USER) if isinstance(n := _name(u), str)}


def _bindings(resources: list[Resource]) -> list[tuple[Any, Any]] | None:
    """(user, role) of every binding; None when one of them is unknown (it could bind anyone to anything)."""
    pairs = [(_name(b, "user"), _name(b, "role")) for b in of_type(resources, ROLE_BINDING)]
    if any(not isinstance(user, str) or not isinstance(role, str) for user, role in pairs):
        return None
    return pairs


def _everything_grants(role: Resource) -> list[str]:
    found = []
    grants = role.props.get("grants")
    for grant in grants if isinstance(grants, list) else ():
        if isinstance(grant, Mapping) and grant.get("objectName") == ANY and grant.get("database") == ANY:
            found.append(f"{grant.get('privilege')} on every {str(grant.get('objectType')).lower()}")
    return found


@stack_rule(
    "milvus-user-not-admin",
    "No declared Milvus user is given the built-in admin role, which holds every privilege.",
    MANDATORY,
    [USER, ROLE_BINDING],
)
def user_not_admin(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    users, bindings = _users(resources), _bindings(resources)
    for user, role in bindings or ():
        if role == ADMIN_ROLE and user in users:
            yield (
                users[user],
                f'Milvus user "{user}" is given the built-in admin role, which can do everything root can; '
                "declare a role with only the privileges the team needs, or exempt the user with a reason.",
            )


@stack_rule(
    "milvus-user-not-everything",
    "No declared Milvus user is given a role granting privileges on every object of every database.",
    MANDATORY,
    [USER, ROLE, ROLE_BINDING],
)
def user_not_everything(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    users, bindings = _users(resources), _bindings(resources)
    roles = {n: r for r in of_type(resources, ROLE) if isinstance(n := _name(r), str)}
    for user, role in bindings or ():
        if user in users and role in roles:
            wide = _everything_grants(roles[role])
            if wide:
                yield (
                    users[user],
                    f'Milvus user "{user}" is given role "{role}", which grants {", ".join(wide)} in every '
                    "database; name the databases (and collections) the team works in, or exempt the user "
                    "with a reason.",
                )


@stack_rule(
    "milvus-user-has-role",
    "Every declared Milvus user is given at least one role.",
    MANDATORY,
    [USER, ROLE_BINDING],
)
def user_has_role(resources: list[Resource], config: Mapping[str, Any]) -> Finding:
    bindings = _bindings(resources)
    if bindings is None:
        return
    bound = {user for user, _ in bindings}
    for name, user in sorted(_users(resources).items()):
        if name not in bound:
            yield (
                user,
                f'Milvus user "{name}" has no role, so nobody decided what it is for; give it the role its '
                "team needs in `milvus.access.users`, or remove it.",
            )


@resource_rule(
    "milvus-database-keeps-collections",
    "No Milvus database is declared to drop its collections when it is removed from the stack.",
    MANDATORY,
    [DATABASE],
)
def database_keeps_collections(database: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if database.props.get("dropCollections") is True:
        yield (
            f'Milvus database "{_name(database)}" is declared with dropCollections, so removing it from the '
            "stack drops every collection in it; set it only for the `pulumi up` that removes the database, "
            "and exempt it with the reason."
        )


@resource_rule(
    "milvus-managed-root-password-not-default",
    "Root's Milvus password is neither Milvus's built-in default nor shorter than Milvus's minimum.",
    MANDATORY,
    [ROOT_PASSWORD],
)
def root_password_not_default(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    password = resource.props.get("password")
    if not isinstance(password, str):
        return  # unknown during preview (a generated password), never judged
    if password == MILVUS_DEFAULT_ROOT_PASSWORD:
        yield "Root's Milvus password is the built-in default `Milvus`; set `milvus.rootPassword` (or leave it unset to have one generated)."
    elif len(password) < MILVUS_PASSWORD_MINIMUM:
        yield (
            f"Root's Milvus password is shorter than {MILVUS_PASSWORD_MINIMUM} characters; set a longer "
            "`milvus.rootPassword`."
        )


POLICIES = [
    user_not_admin,
    user_not_everything,
    user_has_role,
    database_keeps_collections,
    root_password_not_default,
]
