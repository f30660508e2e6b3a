"""tools/verify/access.py: each declared user logs in, does one thing its roles allow and is refused one they
do not; against the real Milvus of tests/milvus_server.py (2.3.5, authentication on), and end to end through
`--stack` (a stand-in `pulumi` printing the outputs the program exports)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.access import operations as ops
from components.access.connection import Endpoint, Login, open_session
from components.access.privileges import Grant
from tests.conftest import MilvusEndpoint
from tests.verify.conftest import run_verify
from tests.verify.test_usage_and_stack import fake_pulumi_cli
from tools.verify.access import UserAccess, allowed_probe, refused_probe, run_access_checks, users_from
from tools.verify.core import Redactor, Verdict


def grant(
    privilege: str, database: str = "team_a", object_type: str = "Collection", name: str = "*"
) -> dict[str, str]:
    return {"objectType": object_type, "objectName": name, "privilege": privilege, "database": database}


def user(*grants: dict[str, str], roles: tuple[str, ...] = ("r",)) -> UserAccess:
    return UserAccess("u", "pw", roles, grants)


@pytest.mark.parametrize(
    ("grants", "roles", "allowed", "refused"),
    [
        ((grant("Search"), grant("Query")), ("r",), ("Query", "team_a"), ("Insert", "team_a")),
        ((grant("Insert"), grant("Search")), ("r",), ("Search", "team_a"), ("Delete", "team_a")),
        ((grant("Query", database="*"),), ("r",), ("Query", "default"), ("Insert", "default")),
        (
            (grant("*", database="*"),),  # every collection privilege everywhere: nothing left to refuse
            ("r",),
            ("Query", "default"),
            None,
        ),  # Collection * only
        (
            (grant("Search", name="docs"),),
            ("r",),
            None,
            ("Insert", "default"),
        ),  # a named collection: not tried
        (
            (grant("ShowCollections", object_type="Global"),),
            ("r",),
            ("ShowCollections", "team_a"),
            ("Insert", "team_a"),
        ),
        (
            (grant("All", object_type="Global"),),  # Milvus lets PrivilegeAll do anything in its database
            ("r",),
            ("Query", "team_a"),
            None,
        ),
        (
            (grant("All", database="*", object_type="Global"), grant("Search")),  # All matches no "*"
            ("r",),
            ("Search", "team_a"),
            ("Insert", "team_a"),
        ),
        ((), ("admin",), None, None),
        ((), ("public",), None, ("Insert", "default")),
    ],
)
def test_which_action_stands_for_a_role(
    grants: tuple[dict[str, str], ...], roles: tuple[str, ...], allowed: Any, refused: Any
) -> None:
    u = user(*grants, roles=roles)
    probe = allowed_probe(u)
    assert (probe and (probe.privilege, probe.database)) == allowed
    database = probe.database if probe else "default"
    refusal = refused_probe(u, database)
    assert (refusal and (refusal.privilege, refusal.database)) == refused


def test_users_and_grants_come_from_the_outputs() -> None:
    summary = {"roles": {"r": [grant("Search")]}, "users": {"b": ["r", "public"], "a": []}}
    assert users_from(summary, {"b": "pw-b"}) == [
        UserAccess("a", "", (), ()),
        UserAccess("b", "pw-b", ("r", "public"), (grant("Search"),)),
    ]


_counter = itertools.count()


@pytest.fixture
def unique() -> str:
    return f"ver{os.getpid()}_{next(_counter)}"


@pytest.fixture
def team(milvus_server: MilvusEndpoint, unique: str) -> Iterator[dict[str, Any]]:
    """On the real server: database, a reader role, a reader, a user who can also insert (by hand, beyond
    what the stack says), and the stack's summary of it."""
    db, reader, writer = f"{unique}_db", f"{unique}_reader", f"{unique}_w"
    grants = frozenset({Grant("Collection", "*", "Search", db), Grant("Collection", "*", "Query", db)})
    want = ops.Desired(
        databases=frozenset({db}),
        roles={reader: grants},
        users={f"{unique}_alice": frozenset({reader}), writer: frozenset({reader})},
        passwords={f"{unique}_alice": "alice-Secret-1", writer: "writer-Secret-2"},
    )
    endpoint, root = Endpoint(milvus_server.uri, wait_seconds=5), Login("root", milvus_server.root_password)
    with open_session(endpoint, root, "set up") as s:
        ops.apply(s, ops.plan(want, ops.read_snapshot(s, want.databases, want.roles, want.users)))
        extra = f"{unique}_extra"
        ops.apply(
            s,
            [
                ops.Change(ops.CREATE_ROLE, extra),
                ops.Change(ops.GRANT, extra, Grant("Collection", "*", "Insert", db)),
            ],
        )
        ops.apply(s, [ops.Change(ops.BIND, writer, role=extra)])
    summary = {
        "databases": [db],
        "roles": {reader: [g.to_wire() for g in sorted(grants)]},
        "users": {u: [reader] for u in want.users},
    }
    try:
        yield {
            "summary": summary,
            "passwords": want.passwords,
            "db": db,
            "alice": f"{unique}_alice",
            "writer": writer,
        }
    finally:
        with open_session(endpoint, root, "clean up") as s:
            ops.apply(s, ops.drop_user_plan(s, writer) + ops.drop_role_plan(s, extra))
            ops.apply(
                s,
                ops.plan(
                    ops.Desired(), ops.read_snapshot(s, want.databases, want.roles, want.users), managed=want
                ),
            )


def test_each_user_is_allowed_and_refused_what_the_stack_says(
    milvus_server: MilvusEndpoint, team: dict[str, Any]
) -> None:
    passwords = {**team["passwords"], "ghost": "wrong-password"}
    summary = {**team["summary"], "users": {**team["summary"]["users"], "ghost": []}}
    results = run_access_checks(
        milvus_server.uri,
        f"root:{milvus_server.root_password}",
        "root",
        users_from(summary, passwords),
        10.0,
        Redactor(),
    )
    verdicts = {r.name: (r.verdict, r.detail) for r in results}
    alice, writer, db = team["alice"], team["writer"], team["db"]
    assert verdicts[f"access.{alice}.login"][0] is Verdict.PASS
    assert verdicts[f"access.{alice}.allowed"][0] is Verdict.PASS
    assert verdicts[f"access.{alice}.allowed"][1].startswith(f"{alice} may query {db}.verify_tmp_access_")
    assert verdicts[f"access.{alice}.refused"][0] is Verdict.PASS
    assert "is refused to insert into" in verdicts[f"access.{alice}.refused"][1]
    # A role given by hand beyond the stack's: verify catches what the stack does not say.
    assert verdicts[f"access.{writer}.refused"][0] is Verdict.FAIL
    assert "which none of its roles grants" in verdicts[f"access.{writer}.refused"][1]
    assert verdicts["access.ghost.login"][0] is Verdict.FAIL
    assert verdicts["access.ghost.allowed"][0] is Verdict.NOT_CHECKED
    assert verdicts[f"access.drop.{db}"][0] is Verdict.PASS  # the temporary collection is gone again
    assert not any(p in r.detail for r in results for p in passwords.values())


def test_verify_reads_the_declared_access_from_the_stack(
    milvus_server: MilvusEndpoint, team: dict[str, Any], tmp_path: Path
) -> None:
    alice = team["alice"]
    fake_pulumi_cli(
        tmp_path,
        {
            "milvusUri": milvus_server.uri,
            "milvusUser": "root",
            "milvusPassword": milvus_server.root_password,
            "milvusAccess": {**team["summary"], "users": {alice: team["summary"]["users"][alice]}},
            f"milvusLogin_{alice}": {
                "uri": milvus_server.uri,
                "user": alice,
                "password": team["passwords"][alice],
            },
        },
    )
    env = {"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    run = run_verify("--stack", "dev", "--rows", "20", "--dim", "4", "--timeout", "10", "--json", env=env)
    verdicts = run.verdicts()
    assert [verdicts[f"access.{alice}.{k}"] for k in ("login", "allowed", "refused")] == ["pass"] * 3
    assert run.report["endpoints"]["milvusAccessUsers"] == [alice]
    assert team["passwords"][alice] not in run.stdout + run.stderr
