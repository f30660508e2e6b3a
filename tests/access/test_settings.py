"""components/access/settings.py: the `milvus.access` section is accepted whole or refused before anything is
declared, with one paragraph naming the key, the problem and what is accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.access.privileges import (
    NEWER_THAN_TEST_SERVER,
    OBJECT_TYPES,
    PRIVILEGE_GROUPS,
    PRIVILEGES,
    Grant,
    privilege_problem,
)
from components.access.settings import AccessConfig, DatabaseSpec, RoleSpec, UserSpec, access_summary
from components.config import parse
from components.config_reader import ConfigError, Secret

READ = {"objectType": "Collection", "objectName": "*", "privilege": "Search", "database": "team_a"}
EXAMPLE = {
    "databases": {"team_a": {}, "old_project": {"dropCollections": True}},
    "roles": {
        "team_a_reader": {
            "grants": [
                READ,
                {"objectType": "Collection", "privilege": "Query", "database": "team_a"},
                {"objectType": "Global", "privilege": "DescribeCollection", "database": "team_a"},
            ]
        }
    },
    "users": {"alice": {"roles": ["team_a_reader"]}, "bob": {"roles": ["team_a_reader", "public"]}},
}


def access(section: dict[str, Any], secret: bool = False, **milvus: Any) -> AccessConfig:
    config = parse(
        {"milvus": json.dumps({**milvus, "access": section})}, secret_keys={"milvus"} if secret else set()
    )
    return config.milvus.access


def refusal(section: dict[str, Any], secret: bool = False, **milvus: Any) -> str:
    with pytest.raises(ConfigError) as error:
        access(section, secret, **milvus)
    message = str(error.value)
    assert message.startswith("config `milvus-platform:milvus") and "Accepted: " in message
    assert "\n" not in message
    return message


def test_the_worked_example_parses_into_sorted_specs() -> None:
    parsed = access(EXAMPLE)
    assert parsed.databases == (DatabaseSpec("old_project", True), DatabaseSpec("team_a", False))
    assert parsed.roles == (
        RoleSpec(
            "team_a_reader",
            (
                Grant("Collection", "*", "Query", "team_a"),
                Grant("Collection", "*", "Search", "team_a"),
                Grant("Global", "*", "DescribeCollection", "team_a"),
            ),
        ),
    )
    assert parsed.users == (
        UserSpec("alice", ("team_a_reader",)),
        UserSpec("bob", ("team_a_reader", "public")),
    )
    assert access_summary(parsed)["users"] == {"alice": ["team_a_reader"], "bob": ["team_a_reader", "public"]}


def test_no_section_means_no_access_and_a_user_without_roles_is_for_the_pack_to_judge() -> None:
    assert parse({}).milvus.access == AccessConfig()
    assert access({"users": {"carol": {}}}).users == (UserSpec("carol", ()),)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("x" * 5, False),
        ("x" * 6, True),
        ("x" * 72, True),
        ("x" * 73, False),
        ("é" * 3, True),  # Milvus and bcrypt count bytes: 6
        ("é" * 36, True),  # 72 bytes
        ("é" * 37, False),  # 74 bytes
    ],
)
def test_a_password_is_a_secret_of_six_to_seventy_two_bytes(value: str, ok: bool) -> None:
    section = {"users": {"alice": {"password": value}}}
    if ok:
        assert access(section, secret=True).users[0].password == Secret(value)
    else:
        message = refusal(section, secret=True)
        assert message.startswith(
            "config `milvus-platform:milvus.access.users.alice.password` has "
            f"{len(value)} characters ({len(value.encode())} bytes in UTF-8)."
        )


def test_a_password_in_plaintext_is_refused_without_showing_it() -> None:
    message = refusal({"users": {"alice": {"password": "plain-text-value"}}})
    assert "stored in plaintext" in message and "plain-text-value" not in message


ROLE = "milvus.access.roles.r"


def grant(**changes: Any) -> dict[str, Any]:
    return {"databases": {"team_a": {}}, "roles": {"r": {"grants": [{**READ, **changes}]}}}


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ({"userz": {}}, "milvus.access.userz", "not a key this project knows"),
        ({"databases": {"team_a": {"drop": True}}}, "milvus.access.databases.team_a.drop", "not a key"),
        (grant(colour="red"), f"{ROLE}.grants[0].colour", "not a key"),
        ({"users": {"alice": {"role": ["x"]}}}, "milvus.access.users.alice.role", "not a key"),
        (grant(privilege="Nope"), f"{ROLE}.grants[0].privilege", "not a privilege Milvus 2.5 knows"),
        (
            grant(privilege="Query", objectType="Global"),
            f"{ROLE}.grants[0].privilege",
            "a Collection privilege",
        ),
        (grant(privilege="CollectionReadOnly"), f"{ROLE}.grants[0].privilege", "a privilege group"),
        (grant(objectType="Partition"), f"{ROLE}.grants[0].objectType", "Collection | Global | User"),
        (grant(database="team_b"), f"{ROLE}.grants[0].database", "not declared in `milvus.access.databases`"),
        (grant(objectName="my-collection"), f"{ROLE}.grants[0].objectName", "a collection name"),
        (
            grant(objectType="Global", privilege="CreateCollection", objectName="docs"),
            f"{ROLE}.grants[0].objectName",
            'is "docs", but a Global privilege covers the whole database',
        ),
        (
            {"roles": {"r": {"grants": [READ | {"database": "default"}] * 2}}},
            f"{ROLE}.grants[1]",
            "repeats grants[0]",
        ),
        ({"users": {"alice": {"roles": ["writer"]}}}, "milvus.access.users.alice.roles[0]", "not declared"),
        (
            {"users": {"alice": {"roles": ["public", "public"]}}},
            "milvus.access.users.alice.roles[1]",
            "repeats",
        ),
        ({"users": {"root": {}}}, "milvus.access.users.root", "Milvus's superuser"),
        ({"users": {"9lives": {}}}, "milvus.access.users.9lives", "not a valid Milvus user name"),
        ({"roles": {"admin": {}}}, "milvus.access.roles.admin", "built-in roles"),
        ({"roles": {"has-dash": {}}}, "milvus.access.roles.has-dash", "not a valid Milvus role name"),
        ({"databases": {"default": {}}}, "milvus.access.databases.default", "built-in database"),
        ({"roles": {"r": {"grants": "Search"}}}, f"{ROLE}.grants", "not a list of grants"),
    ],
)
def test_refused_before_anything_is_declared(section: dict[str, Any], key: str, words: str) -> None:
    message = refusal(section)
    assert message.startswith(f"config `milvus-platform:{key}` ")
    assert words in message


def test_access_needs_authentication() -> None:
    assert "`milvus.authEnabled` is false" in refusal(EXAMPLE, authEnabled=False)


def test_the_privilege_table_is_2_5s_v1_names_without_groups() -> None:
    names = [name for names in PRIVILEGES.values() for name in names]
    assert len(names) == len(set(names)) == 53
    assert OBJECT_TYPES == ("Collection", "Global", "User")
    assert not PRIVILEGE_GROUPS & set(names)
    assert set(names) >= NEWER_THAN_TEST_SERVER
    assert privilege_problem("Global", "*") is None and privilege_problem("User", "SelectUser") is None
    assert "privilege group" in str(privilege_problem("Global", "GroupClusterAdmin"))
