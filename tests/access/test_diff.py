"""The adapter's diff, as the engine asks it during a preview and an up: what replaces, what updates in place,
what only records a new way in, and values not known yet (no server needed)."""

from __future__ import annotations

from typing import Any

from components.access.provider import (
    UNKNOWN,
    DatabaseProvider,
    RoleBindingProvider,
    RoleProvider,
    RootPasswordProvider,
    UserProvider,
)

ENDPOINT = {"uri": "http://127.0.0.1:19530", "sshOptions": [], "waitSeconds": 120}
SEARCH = {"objectType": "Collection", "objectName": "*", "privilege": "Search", "database": "a"}
QUERY = {**SEARCH, "privilege": "Query"}


def props(**values: Any) -> dict[str, Any]:
    return {"endpoint": ENDPOINT, "rootPassword": "root-pw", "__provider": "blob", **values}


def verdict(provider: Any, olds: dict[str, Any], news: dict[str, Any]) -> tuple[bool | None, list[str]]:
    result = provider.diff("id", olds, news)
    assert result.delete_before_replace is False
    return result.changes, result.replaces


def test_names_replace_and_everything_else_updates_in_place() -> None:
    role = props(name="r", grants=[SEARCH])
    assert verdict(RoleProvider(), role, {**role, "name": "s"}) == (True, ["name"])
    assert verdict(RoleProvider(), role, {**role, "grants": [SEARCH, QUERY]}) == (True, [])
    assert verdict(
        RoleProvider(), {**role, "grants": [QUERY, SEARCH]}, {**role, "grants": [SEARCH, QUERY]}
    ) == (
        False,
        [],
    )
    binding = props(user="u", role="r")
    assert verdict(RoleBindingProvider(), binding, {**binding, "role": "public"}) == (True, ["role"])
    database = props(name="a", dropCollections=False)
    assert verdict(DatabaseProvider(), database, {**database, "dropCollections": True}) == (True, [])
    user = props(name="u", password="one")
    assert verdict(UserProvider(), user, {**user, "password": "two"}) == (True, [])
    root = {"endpoint": ENDPOINT, "password": "one"}
    assert verdict(RootPasswordProvider(), root, {**root, "password": "two"}) == (True, [])


def test_a_new_way_in_is_an_update_so_state_keeps_what_logs_in() -> None:
    database = props(name="a", dropCollections=False)
    assert verdict(DatabaseProvider(), database, {**database, "rootPassword": "rotated"}) == (True, [])
    assert verdict(
        DatabaseProvider(), database, {**database, "endpoint": {**ENDPOINT, "uri": "http://h:1"}}
    ) == (
        True,
        [],
    )
    assert verdict(DatabaseProvider(), database, {**database, "__provider": "another blob"}) == (False, [])


def test_unknown_values_count_as_changed_and_drift_as_an_update() -> None:
    user = props(name="u", password="one")
    assert verdict(UserProvider(), user, {**user, "password": UNKNOWN}) == (True, [])
    assert verdict(UserProvider(), user, {**user, "name": UNKNOWN}) == (True, ["name"])
    role = props(name="r", grants=[SEARCH])
    assert verdict(RoleProvider(), role, {**role, "grants": [{**SEARCH, "database": UNKNOWN}]}) == (True, [])
    refreshed = {**user, "passwordWorks": False}  # `pulumi refresh` found the password no longer works
    assert verdict(UserProvider(), refreshed, user) == (True, [])
    assert verdict(UserProvider(), {**user, "passwordWorks": True}, user) == (False, [])
