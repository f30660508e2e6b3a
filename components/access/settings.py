"""The `milvus.access` section: databases, roles with their grants, users with their roles and passwords.

```yaml
milvus-platform:milvus:
  access:
    databases:
      team_a: {}                     # {dropCollections: true} lets a removal drop its collections too
    roles:
      team_a_reader:
        grants:
          - {objectType: Collection, objectName: "*", privilege: Search, database: team_a}
    users:
      alice:
        roles: [team_a_reader]       # password: a secret, generated when unset
```

Every name is a mapping key, so no two databases, roles or users can share a name (Pulumi's YAML loader
refuses a repeated key); a role listed twice for one user and a grant listed twice in one role are refused
here. Everything else that Milvus would refuse half-way through a `pulumi up` is refused before any resource
is declared: unknown keys, unknown privileges and object types (components/access/privileges.py), a Global
grant on a named object, a role or database used but not declared, a user named `root`, the built-in roles
redeclared, names Milvus does not take, passwords outside 6-72 bytes or set in plaintext, and any access
at all with authentication off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.access.privileges import (
    ANY,
    BUILT_IN_ROLES,
    DEFAULT_DATABASE,
    GLOBAL,
    NAME,
    NAME_ACCEPTED,
    OBJECT_TYPES,
    PRIVILEGES,
    ROOT_USER,
    USER_NAME,
    USER_NAME_ACCEPTED,
    Grant,
    privilege_problem,
)
from components.config_reader import ConfigError, Secret, Section, describe

# Milvus's own minimum, and bcrypt's maximum (it reads at most 72 bytes): the same as root's.
PASSWORD_LENGTHS = (6, 72)


@dataclass(frozen=True)
class DatabaseSpec:
    name: str
    drop_collections: bool = False
    """When the database is removed from the stack, drop its collections with it (otherwise a database
    that still holds collections is never dropped). Read from state at delete time: set it, `pulumi up`,
    then remove the database."""


@dataclass(frozen=True)
class RoleSpec:
    name: str
    grants: tuple[Grant, ...]  # sorted, no duplicates


@dataclass(frozen=True)
class UserSpec:
    name: str
    roles: tuple[str, ...]  # as declared, no duplicates
    password: Secret | None = None  # None: generated with pulumi-random and kept in state


@dataclass(frozen=True)
class AccessConfig:
    databases: tuple[DatabaseSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    declared: bool = field(default=False, compare=False)  # the stack has an `access` section at all

    def role(self, name: str) -> RoleSpec | None:
        return next((role for role in self.roles if role.name == name), None)


def _names(section: Section, what: str) -> list[str]:
    """The keys of a name -> settings mapping, each checked against Milvus's naming rule for `what`."""
    pattern, accepted = (USER_NAME, USER_NAME_ACCEPTED) if what == "user" else (NAME, NAME_ACCEPTED)
    for name in section.values:
        if not isinstance(name, str) or not pattern.match(name):
            raise ConfigError(section.key(str(name)), f"is not a valid Milvus {what} name", accepted)
    return sorted(section.values)


def _databases(section: Section) -> tuple[DatabaseSpec, ...]:
    specs = []
    for name in _names(section, "database"):
        if name == DEFAULT_DATABASE:
            raise ConfigError(
                section.key(name),
                "is Milvus's built-in database, which always exists and is never dropped",
                "another name; grants may name `default` without declaring it",
            )
        entry = section.section(name)
        specs.append(DatabaseSpec(name, entry.boolean("dropCollections", False)))
        entry.finish()
    section.finish()
    return tuple(specs)


def _grant(section: Section, databases: set[str]) -> Grant:
    object_type = section.required("objectType", " | ".join(OBJECT_TYPES))
    if object_type not in PRIVILEGES:
        raise ConfigError(section.key("objectType"), f"is {describe(object_type)}", " | ".join(OBJECT_TYPES))
    privilege = section.required("privilege", f"a {object_type} privilege (components/access/privileges.py)")
    problem = privilege_problem(object_type, privilege)
    if problem is not None:
        raise ConfigError(
            section.key("privilege"),
            f"is {describe(privilege)}, {problem}",
            f"`*` or one of {', '.join(PRIVILEGES[object_type])}",
        )
    object_name = section.string("objectName", ANY).strip()
    if object_type == GLOBAL and object_name != ANY:
        # Milvus records a Global grant on `*` whatever name it was given (tests/access pins it), so a named
        # one would read back as another grant: a diff on every refresh, and an update revoking the real one.
        raise ConfigError(
            section.key("objectName"),
            f"is {describe(object_name)}, but a Global privilege covers the whole database and Milvus "
            "records it on `*` whatever name it is given",
            "`*`, or no objectName, for objectType Global",
        )
    if object_name != ANY and not (USER_NAME if object_type == "User" else NAME).match(object_name):
        raise ConfigError(
            section.key("objectName"),
            f"is {describe(object_name)}",
            f"`*` (every {object_type.lower()}) or a {object_type.lower()} name: "
            + (USER_NAME_ACCEPTED if object_type == "User" else NAME_ACCEPTED),
        )
    database = section.required(
        "database", "a database declared in `milvus.access.databases`, `default` or `*`"
    )
    if database not in databases and database not in (DEFAULT_DATABASE, ANY):
        raise ConfigError(
            section.key("database"),
            f"is {describe(database)}, a database not declared in `milvus.access.databases`",
            f"one of {', '.join(sorted(databases | {DEFAULT_DATABASE, ANY}))}",
        )
    section.finish()
    return Grant(object_type, object_name, privilege, database)


def _grants(section: Section, databases: set[str]) -> tuple[Grant, ...]:
    value = section.get("grants")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(
            section.key("grants"),
            f"is {describe(value)}, not a list of grants",
            "a list of {objectType, objectName, privilege, database} objects",
        )
    grants: list[Grant] = []
    for index, item in enumerate(value):
        grant = _grant(Section(section.key(f"grants[{index}]"), item, section.secret), databases)
        if grant in grants:
            raise ConfigError(
                section.key(f"grants[{index}]"),
                f"repeats grants[{grants.index(grant)}] ({grant.privilege} on {grant.object_type} "
                f"{grant.object_name} in {grant.database})",
                "each grant once",
            )
        grants.append(grant)
    return tuple(sorted(grants))


def _roles(section: Section, databases: set[str]) -> tuple[RoleSpec, ...]:
    specs = []
    for name in _names(section, "role"):
        if name in BUILT_IN_ROLES:
            raise ConfigError(
                section.key(name),
                "is one of Milvus's built-in roles, which exist already and cannot be redeclared",
                f"another name; users may be given {' or '.join(BUILT_IN_ROLES)} without declaring it",
            )
        entry = section.section(name)
        specs.append(RoleSpec(name, _grants(entry, databases)))
        entry.finish()
    section.finish()
    return tuple(specs)


def _password(section: Section) -> Secret | None:
    password = section.secret_string("password")
    shortest, longest = PASSWORD_LENGTHS
    # Counted in bytes, as Milvus and bcrypt count (Go's len; bcrypt refuses more than 72 bytes).
    size = len(password.value.encode()) if password is not None else 0
    if password is not None and not shortest <= size <= longest:
        raise ConfigError(
            section.key("password"),
            f"has {len(password.value)} characters ({size} bytes in UTF-8)",
            f"a secret of {shortest} to {longest} bytes (ASCII characters), or none to have one generated",
        )
    return password


def _user_roles(section: Section, roles: Sequence[str]) -> tuple[str, ...]:
    known = set(roles) | set(BUILT_IN_ROLES)
    given = section.strings("roles")
    for index, role in enumerate(given):
        if role not in known:
            raise ConfigError(
                section.key(f"roles[{index}]"),
                f"is {describe(role)}, a role not declared in `milvus.access.roles`",
                f"one of {', '.join(sorted(known))}",
            )
        if role in given[:index]:
            raise ConfigError(section.key(f"roles[{index}]"), f"repeats {describe(role)}", "each role once")
    return given


def _users(section: Section, roles: Sequence[str]) -> tuple[UserSpec, ...]:
    specs = []
    for name in _names(section, "user"):
        if name == ROOT_USER:
            raise ConfigError(
                section.key(name),
                "is Milvus's superuser, whose password is `milvus.rootPassword`",
                "any other user name",
            )
        entry = section.section(name)
        specs.append(UserSpec(name, _user_roles(entry, roles), _password(entry)))
        entry.finish()
    section.finish()
    return tuple(specs)


def parse_access(section: Section, auth_enabled: bool) -> AccessConfig:
    """The `milvus.access` section (`section`), checked whole before anything is declared."""
    if not section.values:
        section.finish()
        return AccessConfig()
    if not auth_enabled:
        raise ConfigError(
            section.path,
            "is set, but `milvus.authEnabled` is false: without authentication Milvus lets everyone do everything",
            "`milvus.authEnabled: true` with `milvus.access`, or no `milvus.access`",
        )
    databases = _databases(section.section("databases"))
    roles = _roles(section.section("roles"), {d.name for d in databases})
    users = _users(section.section("users"), [r.name for r in roles])
    section.finish()
    return AccessConfig(databases, roles, users, declared=True)


def access_summary(access: AccessConfig) -> dict[str, Any]:
    """What the stack output `milvusAccess` shows (no passwords): tools.verify reads it."""
    return {
        "databases": [d.name for d in access.databases],
        "roles": {r.name: [g.to_wire() for g in r.grants] for r in access.roles},
        "users": {u.name: list(u.roles) for u in access.users},
    }
