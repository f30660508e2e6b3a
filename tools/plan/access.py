"""Milvus access in the plan, in words a reviewer reads: who gets which role, which grants a role gains or
loses, which databases come and go, whose password changes (never the password).

The access resources are `pulumi-python:dynamic/milvus:<Kind>` (components/access/provider.py; tests/plan
pins the names and the wording to components/access). This module reads only the planned properties, so it
works on a base ref planned before components/access existed (the planner is the head's: tools/plan/run.py
`INSTRUMENT`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tools.plan.diff import PlanDiff
from tools.plan.model import PlannedItem

ACCESS_PREFIX = "pulumi-python:dynamic/milvus:"
ANY = "*"
# Inputs that only say how to reach Milvus (components/access/provider.py CONNECTION_INPUTS).
CONNECTION = ("endpoint", "rootPassword")


def kind_of(item: PlannedItem) -> str | None:
    """RootPassword, Database, Role, User or RoleBinding; None for any other resource."""
    return item.type.removeprefix(ACCESS_PREFIX) if item.type.startswith(ACCESS_PREFIX) else None


def grant_words(grant: Any) -> str:
    """`Search on every collection in database team_a` (components/access/operations.py `describe_grant`)."""
    if not isinstance(grant, Mapping):
        return str(grant)  # masked or unknown as a whole
    object_type, name = str(grant.get("objectType")), str(grant.get("objectName", ANY))
    database = str(grant.get("database"))
    where = "every database" if database == ANY else f"database {database}"
    if object_type == "Global":
        return f"{grant.get('privilege')} in {where}"
    kind = object_type.lower()
    what = f"every {kind}" if name == ANY else f"{kind} {name}"
    return f"{grant.get('privilege')} on {what} in {where}"


def _grants(item: PlannedItem) -> list[str]:
    grants = item.properties.get("grants")
    return [grant_words(g) for g in grants] if isinstance(grants, list) else [str(grants)]


def _name(item: PlannedItem, key: str = "name") -> str:
    return str(item.properties.get(key, item.name))


def details(item: PlannedItem) -> str | None:
    """The text report's one line for an access resource, or None for any other."""
    kind = kind_of(item)
    if kind == "RootPassword":
        return "root's password: rotated from the one in state when the stack's changes"
    if kind == "Database":
        drops = (
            ", drops its collections when removed" if item.properties.get("dropCollections") is True else ""
        )
        return f"database {_name(item)}{drops}"
    if kind == "Role":
        count = len(_grants(item))
        return f"role {_name(item)}: {count} grant{'s' if count != 1 else ''}"
    if kind == "User":
        return f"user {_name(item)}"
    if kind == "RoleBinding":
        return f"user {_name(item, 'user')} gets role {_name(item, 'role')}"
    return None


def summary_lines(items: Sequence[PlannedItem]) -> list[str]:
    """The text report's access section: every database, role with its grants, user with its roles."""
    by_kind: dict[str, list[PlannedItem]] = {}
    for item in items:
        kind = kind_of(item)
        if kind is not None:
            by_kind.setdefault(kind, []).append(item)
    if not by_kind:
        return []
    roles_of: dict[str, list[str]] = {}
    for binding in by_kind.get("RoleBinding", []):
        roles_of.setdefault(_name(binding, "user"), []).append(_name(binding, "role"))
    databases, roles, users = (sorted(by_kind.get(k, []), key=_name) for k in ("Database", "Role", "User"))
    lines = [f"Milvus access: {len(databases)} database(s), {len(roles)} role(s), {len(users)} user(s)"]
    lines += [f"  {details(d)}" for d in databases]
    for role in roles:
        lines.append(f"  role {_name(role)}:")
        lines += [f"    {words}" for words in _grants(role)] or ["    (no grants)"]
    for user in users:
        given = sorted(roles_of.get(_name(user), []))
        lines.append(f"  user {_name(user)}: {', '.join(given) if given else 'NO ROLE'} (password not shown)")
    return lines


def _added(item: PlannedItem) -> list[str]:
    kind = kind_of(item)
    if kind == "Role":
        grants = _grants(item)
        return [f"- new role `{_name(item)}` with {len(grants)} grant(s): " + "; ".join(grants)]
    if kind == "RoleBinding":
        return [f"- user `{_name(item, 'user')}` **gets** role `{_name(item, 'role')}`"]
    if kind == "User":
        return [f"- new user `{_name(item)}` (its password: a secret output `milvusLogin_{_name(item)}`)"]
    if kind == "Database":
        return [f"- new {details(item)}"]
    if kind == "RootPassword":
        return ["- root's password is checked, and from now on rotated when `milvus.rootPassword` changes"]
    return []


def _removed(item: PlannedItem) -> list[str]:
    kind = kind_of(item)
    if kind == "Role":
        return [f"- role `{_name(item)}` is **dropped** (its grants revoked, taken from every user first)"]
    if kind == "RoleBinding":
        return [f"- user `{_name(item, 'user')}` **loses** role `{_name(item, 'role')}`"]
    if kind == "User":
        return [f"- user `{_name(item)}` is **dropped** (its roles taken first)"]
    if kind == "Database":
        drops = item.properties.get("dropCollections") is True
        what = (
            "**dropped with every collection in it**" if drops else "dropped only if it holds no collection"
        )
        return [f"- database `{_name(item)}` is {what}"]
    if kind == "RootPassword":
        return ["- root's password is no longer managed (Milvus keeps the one it has)"]
    return []


def _changed(before: PlannedItem, after: PlannedItem) -> list[str]:
    kind, lines = kind_of(after), []
    if kind == "Role":
        old, new = set(_grants(before)), set(_grants(after))
        if new - old:
            lines.append(f"- role `{_name(after)}` **gains**: " + "; ".join(sorted(new - old)))
        if old - new:
            lines.append(f"- role `{_name(after)}` **loses**: " + "; ".join(sorted(old - new)))
    if kind in ("User", "RootPassword") and _secret_changed(before, after, "password"):
        who = f"user `{_name(after)}`" if kind == "User" else "root"
        lines.append(f"- {who}'s password is **rotated** (old one from state; value not shown)")
    if kind == "Database" and before.properties.get("dropCollections") != after.properties.get(
        "dropCollections"
    ):
        drops = after.properties.get("dropCollections") is True
        state = (
            "**will drop its collections** when removed" if drops else "keeps its collections when removed"
        )
        lines.append(f"- database `{_name(after)}` now {state}")
    if any(_secret_changed(before, after, key) or _plain_changed(before, after, key) for key in CONNECTION):
        lines.append(
            f"- `{after.name}` records a new way to reach Milvus (its address or root's password; nothing "
            "changes in Milvus)"
        )
    return lines


def _secret_changed(before: PlannedItem, after: PlannedItem, key: str) -> bool:
    return before.secret_fingerprints.get(key) != after.secret_fingerprints.get(key)


def _plain_changed(before: PlannedItem, after: PlannedItem, key: str) -> bool:
    return key not in before.secret_fingerprints and before.properties.get(key) != after.properties.get(key)


def change_lines(diff: PlanDiff, head: Sequence[PlannedItem]) -> list[str]:
    """The pull request's access changes in words, one bullet each; [] when access does not change."""
    old = {i.urn: i for i in diff.changed_before}
    new = {i.urn: i for i in head}
    lines: list[str] = []
    for item in sorted(diff.added, key=_order):
        lines += _added(item)
    for item in sorted(diff.removed, key=_order):
        lines += _removed(item)
    for after in sorted((new[c.urn] for c in diff.changed if c.urn in old and c.urn in new), key=_order):
        lines += _changed(old[after.urn], after)
    return lines


KINDS = ("RootPassword", "Database", "Role", "User", "RoleBinding")


def _order(item: PlannedItem) -> tuple[int, str]:
    """Root, databases, roles, users, then who gets which role: the order a reader builds the picture in."""
    kind = kind_of(item)
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), item.name)


def markdown_section(diff: PlanDiff, head: Sequence[PlannedItem]) -> list[str]:
    lines = change_lines(diff, head)
    return ["#### Milvus access", "", *lines, ""] if lines else []
