"""tools/plan/access.py: Milvus access in the plan and the pull-request diff, in words, never a password."""

from __future__ import annotations

from typing import Any

import pytest

from components.access.operations import describe_grant
from components.access.privileges import Grant
from components.access.provider import TYPE_PREFIX, TYPES
from tests.plan.test_plan_units import item, secret
from tools.plan import access
from tools.plan.diff import diff_plans
from tools.plan.markdown import render_markdown
from tools.plan.text import render_text

ENDPOINT = {"uri": "http://127.0.0.1:19530", "sshOptions": [], "waitSeconds": 120}
ROOT = secret("root-pw-placeholder")


def grant(
    privilege: str, object_type: str = "Collection", name: str = "*", database: str = "team_a"
) -> dict[str, str]:
    return {"objectType": object_type, "objectName": name, "privilege": privilege, "database": database}


def role(grants: list[dict[str, str]], root: Any = ROOT) -> Any:
    props = {"endpoint": ENDPOINT, "rootPassword": root, "name": "reader", "grants": grants}
    return item("milvus-access-role-reader", props, TYPES["Role"])


def user(name: str = "alice", password: str = "alice-pw-placeholder") -> Any:
    props = {"endpoint": ENDPOINT, "rootPassword": ROOT, "name": name, "password": secret(password)}
    return item(f"milvus-access-user-{name}", props, TYPES["User"])


def binding(user_name: str = "alice", role_name: str = "reader") -> Any:
    props = {"endpoint": ENDPOINT, "rootPassword": ROOT, "user": user_name, "role": role_name}
    return item(f"milvus-access-binding-{user_name}-{role_name}", props, TYPES["RoleBinding"])


def database(name: str = "team_a", drop: bool = False) -> Any:
    props = {"endpoint": ENDPOINT, "rootPassword": ROOT, "name": name, "dropCollections": drop}
    return item(f"milvus-access-database-{name}", props, TYPES["Database"])


def root(password: str = "root-pw-placeholder") -> Any:
    return item(
        "milvus-access-root-password",
        {"endpoint": ENDPOINT, "password": secret(password)},
        TYPES["RootPassword"],
    )


def words(base: list[Any], head: list[Any]) -> list[str]:
    return access.change_lines(diff_plans(base, head, "main", "abc"), head)


READER = [grant("Search"), grant("DescribeCollection", "Global")]


def test_grants_added_and_revoked_in_words() -> None:
    after = [grant("Search"), grant("Insert", name="docs"), grant("Query", database="*")]
    assert words([role(READER)], [role(after)]) == [
        "- role `reader` **gains**: Insert on collection docs in database team_a; Query on every collection in "
        "every database",
        "- role `reader` **loses**: DescribeCollection in database team_a",
    ]
    assert words([role(READER)], [role(list(reversed(READER)))]) == []  # order means nothing... in words


def test_who_gets_and_loses_what() -> None:
    base = [database("old", drop=True), role(READER), user("bob"), binding("bob")]
    head = [database(), role(READER), user("alice"), binding("alice"), binding("alice", "admin")]
    assert words(base, head) == [
        "- new database team_a",
        "- new user `alice` (its password: a secret output `milvusLogin_alice`)",
        "- user `alice` **gets** role `admin`",
        "- user `alice` **gets** role `reader`",
        "- database `old` is **dropped with every collection in it**",
        "- user `bob` is **dropped** (its roles taken first)",
        "- user `bob` **loses** role `reader`",
    ]


def test_rotations_are_named_and_their_values_never_shown() -> None:
    base = [root("old-root-pw"), user("alice", "old-alice-pw"), database()]
    head = [root("new-root-pw"), user("alice", "new-alice-pw"), database(drop=True)]
    lines = words(base, head)
    assert lines == [
        "- root's password is **rotated** (old one from state; value not shown)",
        "- database `team_a` now **will drop its collections** when removed",
        "- user `alice`'s password is **rotated** (old one from state; value not shown)",
    ]
    diff = diff_plans(base, head, "main", "abc")
    markdown = render_markdown("s", head, None, diff, "tree")
    assert (
        "#### Milvus access" in markdown
        and "<details><summary>~ <code>milvus-access-user-alice</code>" in markdown
    )
    assert not [p for p in ("old-root-pw", "new-root-pw", "old-alice-pw", "new-alice-pw") if p in markdown]


def test_a_new_way_to_reach_milvus_is_said_to_change_nothing_in_milvus() -> None:
    assert words([role(READER)], [role(READER, root=secret("rotated"))]) == [
        "- `milvus-access-role-reader` records a new way to reach Milvus (its address or root's password; "
        "nothing changes in Milvus)"
    ]


def test_the_text_report_lists_access_without_passwords() -> None:
    items = [root(), database(), role(READER), user("alice"), binding("alice"), user("carol")]
    text = render_text("s", items, None)
    assert (
        "  role reader:\n    Search on every collection in database team_a\n    DescribeCollection in database team_a\n"
        in text
    )
    assert "  user alice: reader (password not shown)\n  user carol: NO ROLE (password not shown)" in text
    assert "user alice gets role reader" in text and "role reader: 2 grants" in text
    assert "placeholder" not in text


@pytest.mark.parametrize(
    "grant_",
    [
        Grant("Collection", "*", "Search", "team_a"),
        Grant("Collection", "docs", "Insert", "*"),
        Grant("Global", "*", "ShowCollections", "default"),
        Grant("User", "alice", "SelectUser", "default"),
        Grant("User", "*", "UpdateUser", "*"),
    ],
)
def test_the_plan_words_grants_as_the_operations_do(grant_: Grant) -> None:
    assert access.grant_words(grant_.to_wire()) == describe_grant(grant_)


def test_the_plan_knows_the_programs_access_types() -> None:
    assert access.ACCESS_PREFIX == TYPE_PREFIX
    assert set(access.KINDS) == set(TYPES)
