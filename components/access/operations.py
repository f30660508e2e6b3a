"""Pure operations over pymilvus's `MilvusClient`: read what a Milvus has, plan the changes from desired vs
actual, apply them.

`plan` and the per-kind planners are pure (a list of `Change`s from two values); `read_*` and `apply` talk
to the server through a `Session` (components/access/connection.py). `apply` runs the changes in order and,
when one fails, undoes the ones already made in reverse order, so a failed `pulumi up` leaves Milvus as it
found it: the order puts the changes that cannot be undone (dropping a user, a role, a database or its
collections) after every change that can.

Reading is version-proof: a role's grants are read database by database (Milvus 2.3 answers for one
database per call, and `*` only for grants made on `*`), each grant keeping the database the server
reports for it. Passwords cannot be read back: a user's password is checked by logging in as the user.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.access.connection import AccessError, Session
from components.access.privileges import ANY, BUILT_IN_ROLES, DEFAULT_DATABASE, GLOBAL, ROOT_USER, Grant

# --------------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------------

CREATE_DATABASE = "create database"
DROP_COLLECTIONS = "drop the collections of database"
DROP_DATABASE = "drop database"
CREATE_ROLE = "create role"
DROP_ROLE = "drop role"
GRANT = "grant"
REVOKE = "revoke"
CREATE_USER = "create user"
CHANGE_PASSWORD = "change the password of user"
DROP_USER = "drop user"
BIND = "give role"
UNBIND = "take role"
# What can be undone, and how; the rest (drops) cannot and are planned last.
_INVERSE = {CREATE_DATABASE: DROP_DATABASE, CREATE_ROLE: DROP_ROLE, GRANT: REVOKE, REVOKE: GRANT}
_INVERSE |= {CREATE_USER: DROP_USER, BIND: UNBIND, UNBIND: BIND, CHANGE_PASSWORD: CHANGE_PASSWORD}
_ORDER = (
    CREATE_DATABASE,
    CREATE_ROLE,
    GRANT,
    CREATE_USER,
    CHANGE_PASSWORD,
    BIND,
    UNBIND,
    REVOKE,
    DROP_USER,
    DROP_ROLE,
    DROP_COLLECTIONS,
    DROP_DATABASE,
)


@dataclass(frozen=True)
class Change:
    """One step: `kind` on `name` (a database, role or user), with the grant or role it concerns."""

    kind: str
    name: str
    grant: Grant | None = None
    role: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)
    old_password: str | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        if self.grant is not None:
            preposition = "to" if self.kind == GRANT else "from"
            return f"{self.kind} {describe_grant(self.grant)} {preposition} role {self.name}"
        if self.role is not None:
            return f"{self.kind} {self.role} {'to' if self.kind == BIND else 'from'} user {self.name}"
        return f"{self.kind} {self.name}"

    def inverse(self) -> Change | None:
        kind = _INVERSE.get(self.kind)
        if kind is None:
            return None
        if self.kind == CHANGE_PASSWORD:
            return Change(kind, self.name, password=self.old_password, old_password=self.password)
        return Change(kind, self.name, self.grant, self.role)


def describe_grant(grant: Grant) -> str:
    """A grant in words: `Search on every collection in database team_a`."""
    where = "every database" if grant.database == ANY else f"database {grant.database}"
    if grant.object_type == GLOBAL:
        return f"{grant.privilege} in {where}"
    kind = grant.object_type.lower()
    what = f"every {kind}" if grant.object_name == ANY else f"{kind} {grant.object_name}"
    return f"{grant.privilege} on {what} in {where}"


def ordered(changes: Iterable[Change]) -> list[Change]:
    """Creations first, drops last (stable within a kind)."""
    return sorted(changes, key=lambda c: _ORDER.index(c.kind))


# --------------------------------------------------------------------------------------------------
# Planning (pure)
# --------------------------------------------------------------------------------------------------


def plan_grants(role: str, desired: Iterable[Grant], actual: Iterable[Grant]) -> list[Change]:
    want, have = set(desired), set(actual)
    return [Change(GRANT, role, g) for g in sorted(want - have)] + [
        Change(REVOKE, role, g) for g in sorted(have - want)
    ]


def plan_roles_of_user(user: str, desired: Iterable[str], actual: Iterable[str]) -> list[Change]:
    want, have = set(desired), set(actual)
    return [Change(BIND, user, role=r) for r in sorted(want - have)] + [
        Change(UNBIND, user, role=r) for r in sorted(have - want)
    ]


@dataclass(frozen=True)
class Snapshot:
    """What a Milvus has of the names asked about: databases, each role's grants, each user's roles."""

    databases: frozenset[str]
    roles: Mapping[str, frozenset[Grant]]  # a role absent here does not exist
    users: Mapping[str, frozenset[str]]  # user -> roles; a user absent here does not exist


@dataclass(frozen=True)
class Desired:
    """The access a stack declares: databases, roles and their grants, users and their roles."""

    databases: frozenset[str] = frozenset()
    roles: Mapping[str, frozenset[Grant]] = field(default_factory=dict)
    users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    passwords: Mapping[str, str] = field(default_factory=dict, repr=False)  # for users to create


def plan(desired: Desired, actual: Snapshot, managed: Desired | None = None) -> list[Change]:
    """The changes that turn `actual` into `desired`. Only names in `managed` (default: `desired`) and in
    `desired` are touched: what a stack never declared is not its to drop."""
    scope = managed or desired
    changes: list[Change] = []
    for name in sorted(desired.databases - actual.databases):
        changes.append(Change(CREATE_DATABASE, name))
    for name in sorted((scope.databases - desired.databases) & actual.databases):
        changes.append(Change(DROP_DATABASE, name))
    for name, grants in sorted(desired.roles.items()):
        if name not in actual.roles:
            changes.append(Change(CREATE_ROLE, name))
        changes += plan_grants(name, grants, actual.roles.get(name, frozenset()))
    for name in sorted(set(scope.roles) - set(desired.roles)):
        if name in actual.roles:
            changes += [Change(REVOKE, name, g) for g in sorted(actual.roles[name])]
            changes.append(Change(DROP_ROLE, name))
    for name, roles in sorted(desired.users.items()):
        if name not in actual.users:
            changes.append(Change(CREATE_USER, name, password=desired.passwords.get(name)))
        changes += plan_roles_of_user(name, roles, actual.users.get(name, frozenset()))
    for name in sorted(set(scope.users) - set(desired.users)):
        if name in actual.users:
            changes += [Change(UNBIND, name, role=r) for r in sorted(actual.users[name])]
            changes.append(Change(DROP_USER, name))
    return ordered(changes)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def read_databases(session: Session) -> frozenset[str]:
    client = session.client()
    names = session.call("list databases", lambda: client.list_databases(timeout=session.timeout))
    return frozenset(names)


def collections_in(session: Session, database: str) -> list[str]:
    client = session.client(database)
    names = session.call(
        f"list the collections of database {database}",
        lambda: client.list_collections(timeout=session.timeout),
    )
    return sorted(names)


def role_exists(session: Session, role: str) -> bool:
    client = session.client()
    return role in session.call("list roles", lambda: client.list_roles(timeout=session.timeout))


def read_grants(session: Session, role: str, databases: Iterable[str] = ()) -> frozenset[Grant]:
    """Every grant of `role` in the server's databases, in `databases`, and on `*`."""
    client = session.client()
    where = sorted(read_databases(session) | set(databases) | {ANY})
    grants: set[Grant] = set()
    for database in where:
        found: dict[str, Any] = session.call(
            f"read the grants of role {role} in database {database}",
            functools.partial(client.describe_role, role, db_name=database, timeout=session.timeout),
        )
        for item in found.get("privileges", ()):
            grants.add(
                Grant(
                    str(item["object_type"]),
                    str(item["object_name"]),
                    str(item["privilege"]),
                    str(item.get("db_name") or database),
                )
            )
    return frozenset(grants)


def read_users(session: Session) -> frozenset[str]:
    client = session.client()
    return frozenset(session.call("list users", lambda: client.list_users(timeout=session.timeout)))


def roles_of(session: Session, user: str) -> frozenset[str] | None:
    """The user's roles, or None when the user does not exist."""
    if user not in read_users(session):
        return None
    client = session.client()
    found = session.call(
        f"read the roles of user {user}", lambda: client.describe_user(user, timeout=session.timeout)
    )
    return frozenset(found.get("roles", ()))


def read_snapshot(
    session: Session, databases: Iterable[str], roles: Iterable[str], users: Iterable[str]
) -> Snapshot:
    """The named databases, roles and users as the server has them."""
    present = read_databases(session)
    role_names = set(session.call("list roles", lambda: session.client().list_roles(timeout=session.timeout)))
    user_roles = {u: r for u in users if (r := roles_of(session, u)) is not None}
    return Snapshot(
        databases=present & set(databases),
        roles={r: read_grants(session, r) for r in roles if r in role_names},
        users=user_roles,
    )


def password_works(session: Session, user: str, password: str) -> bool:
    """Whether `user` can log in with `password` (the only way to read a password back)."""
    return session.login_works(user, password)


# --------------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------------


def _run(session: Session, change: Change) -> None:
    client, t = session.client(), session.timeout
    kind, name = change.kind, change.name
    step = change.describe()
    if kind == CREATE_DATABASE:
        session.call(step, lambda: client.create_database(name, timeout=t))
    elif kind == DROP_DATABASE:
        left = collections_in(session, name)
        if left:
            raise AccessError(
                f"Milvus at {session.endpoint.describe()}: {session.operation}: database {name} still holds "
                f"{len(left)} collection(s) ({', '.join(left[:5])}{', ...' if len(left) > 5 else ''}), so it "
                "is not dropped; to drop them with it, set `dropCollections: true` on the database in "
                "`milvus.access.databases` and run `pulumi up` before removing it"
            )
        session.call(step, lambda: client.drop_database(name, timeout=t))
    elif kind == DROP_COLLECTIONS:
        in_db = session.client(name)
        for collection in collections_in(session, name):
            session.call(
                f"drop collection {collection} of database {name}",
                functools.partial(in_db.drop_collection, collection, timeout=t),
            )
    elif kind == CREATE_ROLE:
        session.call(step, lambda: client.create_role(name, timeout=t))
    elif kind == DROP_ROLE:
        session.call(step, lambda: client.drop_role(name, timeout=t))
    elif kind in (GRANT, REVOKE):
        g = change.grant
        assert g is not None
        method = client.grant_privilege if kind == GRANT else client.revoke_privilege
        session.call(
            step,
            lambda: method(name, g.object_type, g.privilege, g.object_name, db_name=g.database, timeout=t),
        )
    elif kind == CREATE_USER:
        password = change.password
        if not password:
            raise AccessError(f"{session.operation}: {step}: no password given")
        session.call(step, lambda: client.create_user(name, password, timeout=t))
    elif kind == CHANGE_PASSWORD:
        old, new = change.old_password or "", change.password or ""
        session.call(step, lambda: client.update_password(name, old, new, timeout=t))
    elif kind == DROP_USER:
        session.call(step, lambda: client.drop_user(name, timeout=t))
    elif kind in (BIND, UNBIND):
        role = change.role or ""
        method = client.grant_role if kind == BIND else client.revoke_role
        session.call(step, lambda: method(name, role, timeout=t))
    else:  # pragma: no cover - every kind above
        raise AccessError(f"{session.operation}: unknown change {kind!r}")


def apply(session: Session, changes: Sequence[Change]) -> list[Change]:
    """Apply `changes` in order; when one fails, undo the ones made (in reverse) and raise an AccessError
    that says what failed and what was undone. Returns the changes made."""
    done: list[Change] = []
    for change in changes:
        try:
            _run(session, change)
        except AccessError as error:
            undone, stuck = _undo(session, done)
            note = f"; undone: {undone} earlier change(s)" if done else ""
            if stuck:
                note += f"; could NOT undo: {'; '.join(stuck)}"
            raise AccessError(f"{error}{note}") from None
        done.append(change)
    return done


def _undo(session: Session, done: Sequence[Change]) -> tuple[int, list[str]]:
    undone, stuck = 0, []
    for change in reversed(done):
        inverse = change.inverse()
        if inverse is None:
            stuck.append(change.describe())
            continue
        try:
            _run(session, inverse)
            undone += 1
        except AccessError:
            stuck.append(change.describe())
    return undone, stuck


# --------------------------------------------------------------------------------------------------
# One object at a time (what the Pulumi resources do)
# --------------------------------------------------------------------------------------------------


def drop_database_plan(session: Session, name: str, drop_collections: bool) -> list[Change]:
    if name == DEFAULT_DATABASE or name not in read_databases(session):
        return []
    return ([Change(DROP_COLLECTIONS, name)] if drop_collections else []) + [Change(DROP_DATABASE, name)]


def drop_role_plan(session: Session, name: str) -> list[Change]:
    """Take the role from every user, revoke its grants, drop it."""
    if name in BUILT_IN_ROLES or not role_exists(session, name):
        return []
    changes = [Change(REVOKE, name, g) for g in sorted(read_grants(session, name))]
    for user in sorted(read_users(session)):
        roles = roles_of(session, user) or frozenset()
        if name in roles:
            changes.append(Change(UNBIND, user, role=name))
    return ordered([*changes, Change(DROP_ROLE, name)])


def drop_user_plan(session: Session, name: str) -> list[Change]:
    """Take every role from the user, then drop it."""
    roles = roles_of(session, name)
    if name == ROOT_USER or roles is None:
        return []
    return [*(Change(UNBIND, name, role=r) for r in sorted(roles)), Change(DROP_USER, name)]
