"""Per-user access checks: each declared user logs in, does one thing its roles allow and is refused one
they do not.

What the stack declares comes from its outputs: `milvusAccess` (databases, roles with their grants, users
with their roles; no password) and `milvusLogin_<user>` (secret: the user's password). The actions run on
a temporary collection that root makes in the database the user's grants name (`verify_tmp_access_*`,
one vector row, dropped afterwards even when a check fails), so a check never reads or changes the team's
own collections. Which action stands for which privilege is `PROBES`; "refused" means Milvus answered
PERMISSION_DENIED. The built-in `public` role lets every user describe and list collections and read index
details, so only privileges outside those are chosen for the refusal.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from pymilvus import MilvusClient

from tools.verify.core import CheckFailed, CheckResult, NotChecked, Redactor, Verdict, run_check

ANY = "*"
COLLECTION, GLOBAL = "Collection", "Global"
ADMIN_ROLE = "admin"
ALL = "All"  # the Global privilege Milvus checks as PrivilegeAll: every action in its database
DEFAULT_DATABASE = "default"
DIM = 4
VECTOR = [0.1, 0.2, 0.3, 0.4]
TEMPORARY_PREFIX = "verify_tmp_access_"

Action = Callable[[MilvusClient, str, float], object]

# Privilege -> (object type, what the user does, the call). Only calls whose effect stays inside the
# temporary collection; allowed ones are tried in this order.
PROBES: dict[str, tuple[str, str, Action]] = {
    "Query": (COLLECTION, "query", lambda c, n, t: c.query(n, filter="id >= 0", limit=1, timeout=t)),
    "Search": (COLLECTION, "search", lambda c, n, t: c.search(n, [VECTOR], limit=1, timeout=t)),
    "GetStatistics": (
        COLLECTION,
        "read the statistics of",
        lambda c, n, t: c.get_collection_stats(n, timeout=t),
    ),
    "Insert": (
        COLLECTION,
        "insert into",
        lambda c, n, t: c.insert(n, [{"id": 2, "vector": VECTOR}], timeout=t),
    ),
    "Delete": (COLLECTION, "delete from", lambda c, n, t: c.delete(n, filter="id in [2]", timeout=t)),
    "Flush": (COLLECTION, "flush", lambda c, n, t: c.flush(n, timeout=t)),
    "DescribeCollection": (GLOBAL, "describe", lambda c, n, t: c.describe_collection(n, timeout=t)),
    "ShowCollections": (
        GLOBAL,
        "list the collections next to",
        lambda c, n, t: c.list_collections(timeout=t),
    ),
}
# What every user may do through the built-in `public` role (Global DescribeCollection, and ListAliases in
# newer releases, Collection IndexDetail, on every database: rootcoord `initPublicRolePrivilege`) or
# without any (ShowCollections answers with what the user may see): never chosen as the refusal.
PUBLIC_PRIVILEGES = frozenset({"DescribeCollection", "IndexDetail", "ListAliases", "ShowCollections"})
REFUSAL_ORDER = ("Insert", "Delete", "Flush", "Query", "Search", "GetStatistics")


@dataclass(frozen=True)
class UserAccess:
    name: str
    password: str = field(repr=False)
    roles: tuple[str, ...]
    grants: tuple[Mapping[str, Any], ...]  # of every declared role it has


@dataclass(frozen=True)
class Probe:
    privilege: str
    database: str

    def describe(self, collection: str) -> str:
        return f"{PROBES[self.privilege][1]} {self.database}.{collection} ({self.privilege})"


def users_from(summary: Mapping[str, Any], passwords: Mapping[str, str]) -> list[UserAccess]:
    """The declared users with their grants (from `milvusAccess`) and passwords (`milvusLogin_<user>`)."""
    roles = summary.get("roles") or {}
    found = []
    for name, user_roles in sorted((summary.get("users") or {}).items()):
        grants = tuple(g for r in user_roles for g in roles.get(r, ()) if isinstance(g, Mapping))
        found.append(UserAccess(name, passwords.get(name, ""), tuple(user_roles), grants))
    return found


def _covers(grant: Mapping[str, Any], privilege: str, database: str) -> bool:
    if grant.get("objectType") == GLOBAL and grant.get("privilege") == ALL:
        # Milvus's policy matcher passes every action on every object for PrivilegeAll when the databases are
        # equal (`dbMatch`, no wildcard): a Collection Insert included (milvus-io/milvus 2.3
        # internal/proxy/privilege_interceptor.go, 2.5 package privilege: ModelStr, DBMatchFunc).
        return grant.get("database") == database
    in_database = grant.get("database") in (database, ANY)
    object_type = PROBES[privilege][0]
    same_type = grant.get("objectType") == object_type
    every = grant.get("privilege") in (privilege, ANY)
    return same_type and every and grant.get("objectName") == ANY and in_database


def granted(user: UserAccess, privilege: str, database: str) -> bool:
    return ADMIN_ROLE in user.roles or any(_covers(g, privilege, database) for g in user.grants)


def allowed_probe(user: UserAccess) -> Probe | None:
    """An action the user's roles allow on every collection of some database (the probe's collection is a
    temporary one, so grants on named collections cannot be tried without touching the team's data)."""
    for privilege in PROBES:
        for grant in user.grants:
            database = str(grant.get("database"))
            database = DEFAULT_DATABASE if database == ANY else database
            if _covers(grant, privilege, database):
                return Probe(privilege, database)
    return None


def refused_probe(user: UserAccess, database: str) -> Probe | None:
    """An action the user's roles do not allow in `database` (and `public` never does)."""
    for privilege in REFUSAL_ORDER:
        if privilege not in PUBLIC_PRIVILEGES and not granted(user, privilege, database):
            return Probe(privilege, database)
    return None


def is_permission_denied(error: BaseException) -> bool:
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "code", None) if isinstance(current, grpc.RpcError) else None
        if callable(code) and code() == grpc.StatusCode.PERMISSION_DENIED:
            return True
        if "permission deny" in str(current).lower() or "privilege not permitted" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def _reason(error: BaseException) -> str:
    details = getattr(error, "details", None)
    if isinstance(error, grpc.RpcError) and callable(details):
        return str(details())
    return str(getattr(error, "message", "") or error)


class AccessChecks:
    """Runs the per-user checks with root's client for the temporary collections."""

    def __init__(self, uri: str, root_token: str, timeout: float, redact: Redactor) -> None:
        self.uri = uri
        self.root_token = root_token
        self.timeout = timeout
        self.redact = redact
        self.collections: dict[str, str] = {}  # database -> temporary collection
        self._clients: list[MilvusClient] = []

    def _client(self, token: str, database: str = "") -> MilvusClient:
        client = MilvusClient(
            uri=self.uri, token=token, db_name=database, timeout=self.timeout, dedicated=True
        )
        self._clients.append(client)
        return client

    def _collection(self, database: str) -> str:
        """A loaded one-row collection in `database`, made by root (once per database)."""
        if database not in self.collections:
            name = f"{TEMPORARY_PREFIX}{secrets.token_hex(4)}"
            root = self._client(self.root_token, "" if database == DEFAULT_DATABASE else database)
            root.create_collection(name, dimension=DIM, consistency_level="Strong", timeout=self.timeout)
            self.collections[database] = name
            root.insert(name, [{"id": 1, "vector": VECTOR}], timeout=self.timeout)
        return self.collections[database]

    def _try(self, user: UserAccess, probe: Probe) -> BaseException | None:
        collection = self._collection(probe.database)
        database = "" if probe.database == DEFAULT_DATABASE else probe.database
        client = self._client(f"{user.name}:{user.password}", database)
        try:
            PROBES[probe.privilege][2](client, collection, self.timeout)
        except Exception as error:
            return error
        return None

    def check_user(self, user: UserAccess) -> list[CheckResult]:
        prefix = f"access.{user.name}"
        self.redact.add(user.password)
        login = run_check(f"{prefix}.login", lambda: self._login(user), self.redact)
        if login.verdict is not Verdict.PASS:
            skipped = f"{user.name} could not log in"
            return [
                login,
                *(
                    CheckResult(f"{prefix}.{k}", Verdict.NOT_CHECKED, 0.0, skipped)
                    for k in ("allowed", "refused")
                ),
            ]
        allowed = allowed_probe(user)
        results = [login, run_check(f"{prefix}.allowed", lambda: self._allowed(user, allowed), self.redact)]
        database = allowed.database if allowed else DEFAULT_DATABASE
        refused = refused_probe(user, database)
        results.append(run_check(f"{prefix}.refused", lambda: self._refused(user, refused), self.redact))
        return results

    def _login(self, user: UserAccess) -> str:
        if not user.password:
            raise NotChecked(f"no password for {user.name} (stack output milvusLogin_{user.name})")
        client = self._client(f"{user.name}:{user.password}")
        client.describe_user(user.name, timeout=self.timeout)
        return f"{user.name} logged in (roles: {', '.join(user.roles) or 'none'})"

    def _allowed(self, user: UserAccess, probe: Probe | None) -> str:
        if probe is None:
            raise NotChecked(
                f"{user.name}'s roles grant nothing verify can try on a temporary collection (it tries "
                f"{', '.join(PROBES)} on every collection of a database)"
            )
        error = self._try(user, probe)
        collection = self.collections[probe.database]
        if error is None:
            return f"{user.name} may {probe.describe(collection)}, as its roles say"
        if is_permission_denied(error):
            raise CheckFailed(
                f"{user.name} was refused to {probe.describe(collection)}, which its roles grant: {_reason(error)}"
            )
        raise CheckFailed(f"{user.name} could not {probe.describe(collection)}: {_reason(error)}")

    def _refused(self, user: UserAccess, probe: Probe | None) -> str:
        if probe is None:
            raise NotChecked(
                f"{user.name}'s roles allow every action verify tries ({', '.join(REFUSAL_ORDER)})"
            )
        error = self._try(user, probe)
        collection = self.collections[probe.database]
        if error is None:
            raise CheckFailed(f"{user.name} may {probe.describe(collection)}, which none of its roles grants")
        if is_permission_denied(error):
            return f"{user.name} is refused to {probe.describe(collection)}, as its roles say"
        raise CheckFailed(
            f"{user.name} could not {probe.describe(collection)} for another reason: {_reason(error)}"
        )

    def _drop(self, database: str, name: str) -> str:
        root = self._client(self.root_token, "" if database == DEFAULT_DATABASE else database)
        root.drop_collection(name, timeout=self.timeout)
        return f"dropped {database}.{name}"

    def close(self) -> list[CheckResult]:
        """Drop the temporary collections (as root) and close every client; a failed drop is reported."""
        results = []
        for database, name in sorted(self.collections.items()):
            results.append(
                run_check(
                    f"access.drop.{database}", functools.partial(self._drop, database, name), self.redact
                )
            )
        for client in self._clients:
            with contextlib.suppress(Exception):  # closing is best effort
                client.close()
        return results


def run_access_checks(
    uri: str,
    root_token: str | None,
    root_user: str | None,
    users: Sequence[UserAccess],
    timeout: float,
    redact: Redactor,
) -> list[CheckResult]:
    if not users:
        return []
    if root_user != "root" or not root_token:
        return [
            CheckResult(
                "access",
                Verdict.NOT_CHECKED,
                0.0,
                "the per-user checks need root (stack outputs milvusUser/milvusPassword) for their temporary collection",
            )
        ]
    checks = AccessChecks(uri, root_token, timeout, redact)
    results: list[CheckResult] = []
    try:
        for user in users:
            results += checks.check_user(user)
    finally:
        results += checks.close()
    return results
