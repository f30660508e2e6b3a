"""components/access/operations.py and connection.py against a real Milvus (tests/milvus_server.py: Milvus
2.3.5 standalone, authentication on; one server for the session).

What this proves: planning from desired vs actual and applying it with the real RBAC API (databases, roles,
grants, users, bindings), idempotency (a second plan is empty), drift read back and repaired, a failed apply
undone, the refusal to drop a database that holds collections, the grants doing what they say (a reader
searches and is refused an insert), which of Milvus 2.5's privilege names this server takes, the SSH tunnel's
life (through a stand-in `ssh`), and the errors for an unreachable server and a refused login.

What 2.3.5 cannot prove about 2.5.15: the privileges it does not know (`NEWER_THAN_TEST_SERVER`: refused here,
pinned below), privilege groups and grant_privilege_v2 (refused by the config instead), how 2.5 answers a
grant listing on `*` (the reader asks database by database, which both answer), 2.5's error texts, and that
2.5 reads `common.security.defaultRootPassword` on first start (the platform's user.yaml; this server starts
with root/Milvus and the session fixture changes it).
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest
from pymilvus import MilvusClient

from components.access import operations as ops
from components.access.connection import (
    AccessError,
    Endpoint,
    Login,
    Session,
    open_session,
    scrub,
    tunnel_command,
)
from components.access.privileges import NEWER_THAN_TEST_SERVER, PRIVILEGES, Grant


def desired(unique: str) -> ops.Desired:
    db, role = f"{unique}_db", f"{unique}_reader"
    return ops.Desired(
        databases=frozenset({db}),
        roles={
            role: frozenset(
                {
                    Grant("Collection", "*", "Search", db),
                    Grant("Collection", "*", "Query", db),
                    Grant("Global", "*", "DescribeCollection", db),
                }
            )
        },
        users={f"{unique}_alice": frozenset({role})},
        passwords={f"{unique}_alice": "alice-pw-1"},
    )


def teardown(endpoint: Endpoint, root: Login, want: ops.Desired) -> None:
    with open_session(endpoint, root, "clean up") as s:
        actual = ops.read_snapshot(s, want.databases, want.roles, want.users)
        for db in actual.databases:
            ops.apply(s, [ops.Change(ops.DROP_COLLECTIONS, db)])
        ops.apply(s, ops.plan(ops.Desired(), actual, managed=want))


def test_apply_then_nothing_left_to_do_and_the_grants_do_what_they_say(
    endpoint: Endpoint, root: Login, unique: str
) -> None:
    want = desired(unique)
    db, user = next(iter(want.databases)), next(iter(want.users))
    try:
        with open_session(endpoint, root, "apply") as s:
            first = ops.plan(want, ops.read_snapshot(s, want.databases, want.roles, want.users))
            assert [c.kind for c in first] == [
                ops.CREATE_DATABASE,
                ops.CREATE_ROLE,
                *[ops.GRANT] * 3,
                ops.CREATE_USER,
                ops.BIND,
            ]
            assert ops.apply(s, first) == first
            again = ops.read_snapshot(s, want.databases, want.roles, want.users)
            assert (
                again.roles == want.roles and again.users == want.users and again.databases == want.databases
            )
            assert ops.plan(want, again) == []  # idempotent: a second apply changes nothing
            root_in_db = s.client(db)
            root_in_db.create_collection("docs", dimension=4, timeout=30)
            root_in_db.insert("docs", [{"id": 1, "vector": [0.1, 0.2, 0.3, 0.4]}], timeout=30)
            root_in_db.flush("docs", timeout=30)
        reader = MilvusClient(
            uri=endpoint.uri, token=f"{user}:alice-pw-1", db_name=db, timeout=10, dedicated=True
        )
        try:
            assert reader.search("docs", [[0.1, 0.2, 0.3, 0.4]], limit=1, timeout=30)[0][0]["id"] == 1
            with pytest.raises(Exception, match=r"(?i)permission|privilege"):
                reader.insert("docs", [{"id": 2, "vector": [0.1, 0.2, 0.3, 0.4]}], timeout=30)
        finally:
            reader.close()
    finally:
        teardown(endpoint, root, want)


def test_drift_is_read_back_and_repaired(endpoint: Endpoint, root: Login, unique: str) -> None:
    want = desired(unique)
    role, user = next(iter(want.roles)), next(iter(want.users))
    try:
        with open_session(endpoint, root, "apply") as s:
            ops.apply(s, ops.plan(want, ops.read_snapshot(s, want.databases, want.roles, want.users)))
            # By hand, as in Attu: a privilege revoked, one added, the user's role taken away.
            client = s.client()
            db = next(iter(want.databases))
            client.revoke_privilege(role, "Collection", "Query", "*", db_name=db, timeout=10)
            client.grant_privilege(role, "Collection", "Insert", "*", db_name=db, timeout=10)
            client.revoke_role(user, role, timeout=10)
            drifted = ops.read_snapshot(s, want.databases, want.roles, want.users)
            repair = ops.plan(want, drifted)
            assert [c.describe() for c in repair] == [
                f"grant Query on every collection in database {db} to role {role}",
                f"give role {role} to user {user}",
                f"revoke Insert on every collection in database {db} from role {role}",
            ]
            ops.apply(s, repair)
            assert ops.plan(want, ops.read_snapshot(s, want.databases, want.roles, want.users)) == []
            # A user deleted by hand is created again.
            client.drop_user(user, timeout=10)
            assert [
                c.kind for c in ops.plan(want, ops.read_snapshot(s, want.databases, want.roles, want.users))
            ] == [
                ops.CREATE_USER,
                ops.BIND,
            ]
    finally:
        teardown(endpoint, root, want)


def test_a_failed_apply_is_undone_and_names_uri_and_operation(
    endpoint: Endpoint, root: Login, unique: str
) -> None:
    role = f"{unique}_role"
    newer = sorted(NEWER_THAN_TEST_SERVER)[0]
    changes = [
        ops.Change(ops.CREATE_ROLE, role),
        ops.Change(ops.GRANT, role, Grant("Collection", "*", "Search", "default")),
        ops.Change(ops.GRANT, role, Grant("Global", "*", newer, "default")),  # this server refuses it
    ]
    with open_session(endpoint, root, f"create role {role}") as s:
        with pytest.raises(AccessError) as error:
            ops.apply(s, changes)
        assert not ops.role_exists(s, role)
    message = str(error.value)
    assert message.startswith(
        f"Milvus at {endpoint.uri}: create role {role}: grant {newer} in database default"
    )
    assert message.endswith("undone: 2 earlier change(s)")
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_a_database_with_collections_is_dropped_only_when_asked(
    endpoint: Endpoint, root: Login, unique: str
) -> None:
    db = f"{unique}_keep"
    with open_session(endpoint, root, f"drop database {db}") as s:
        ops.apply(s, [ops.Change(ops.CREATE_DATABASE, db)])
        s.client(db).create_collection("precious", dimension=4, timeout=30)
        with pytest.raises(
            AccessError, match=rf"database {db} still holds 1 collection\(s\) \(precious\), so it is not"
        ):
            ops.apply(s, ops.drop_database_plan(s, db, drop_collections=False))
        assert db in ops.read_databases(s) and ops.collections_in(s, db) == ["precious"]
        ops.apply(s, ops.drop_database_plan(s, db, drop_collections=True))
        assert db not in ops.read_databases(s)
        assert ops.drop_database_plan(s, "default", drop_collections=True) == []


def test_a_user_password_is_rotated_and_checked_by_logging_in(
    endpoint: Endpoint, root: Login, unique: str
) -> None:
    user = f"{unique}_u"
    with open_session(endpoint, root, f"user {user}") as s:
        try:
            ops.apply(s, [ops.Change(ops.CREATE_USER, user, password="first-pw")])
            assert ops.password_works(s, user, "first-pw")
            rotate = ops.Change(ops.CHANGE_PASSWORD, user, password="second-pw", old_password="first-pw")
            ops.apply(s, [rotate])
            assert ops.password_works(s, user, "second-pw") and not ops.password_works(s, user, "first-pw")
            with pytest.raises(AccessError) as error:  # the old password is wrong now
                ops.apply(s, [rotate])
            assert "first-pw" not in str(error.value) and "second-pw" not in str(error.value)
        finally:
            ops.apply(s, ops.drop_user_plan(s, user))


def test_which_of_2_5s_privileges_this_server_takes(endpoint: Endpoint, root: Login, unique: str) -> None:
    """Every name of the table is granted and read back as given, except exactly the ones 2.3.5 lacks."""
    role = f"{unique}_all"
    refused = set()
    with open_session(endpoint, root, "probe privileges") as s:
        ops.apply(s, [ops.Change(ops.CREATE_ROLE, role)])
        try:
            for object_type, names in PRIVILEGES.items():
                for name in names:
                    try:
                        ops.apply(s, [ops.Change(ops.GRANT, role, Grant(object_type, "*", name, "default"))])
                    except AccessError as error:
                        assert "not found the privilege name" in str(error)
                        refused.add(name)
            granted = {g.privilege for g in ops.read_grants(s, role)}
        finally:
            ops.apply(s, ops.drop_role_plan(s, role))
    assert refused == NEWER_THAN_TEST_SERVER
    assert granted == {n for names in PRIVILEGES.values() for n in names} - NEWER_THAN_TEST_SERVER


def test_a_global_grant_is_recorded_on_every_object_whatever_its_name(
    endpoint: Endpoint, root: Login, unique: str
) -> None:
    """Why the config takes only `*` as a Global grant's objectName: a named one reads back as `*`."""
    role = f"{unique}_global"
    with open_session(endpoint, root, "probe a named Global grant") as s:
        ops.apply(s, [ops.Change(ops.CREATE_ROLE, role)])
        try:
            s.client().grant_privilege(
                role, "Global", "CreateCollection", "docs", db_name="default", timeout=10
            )
            assert ops.read_grants(s, role) == {Grant("Global", "*", "CreateCollection", "default")}
        finally:
            ops.apply(s, ops.drop_role_plan(s, role))


def test_unreachable_and_refused_are_told_apart_quickly(endpoint: Endpoint) -> None:
    nowhere = Endpoint("http://127.0.0.1:9", wait_seconds=1)
    start = time.monotonic()
    with (
        pytest.raises(
            AccessError, match=r"^cannot reach Milvus at http://127.0.0.1:9 \(create role x; waited 1s\)"
        ),
        open_session(nowhere, Login("root", "secret-root-pw"), "create role x"),
    ):
        pass
    assert time.monotonic() - start < 5
    with pytest.raises(AccessError) as error, open_session(endpoint, Login("root", "wrong-root-pw"), "x"):
        pass
    assert str(error.value) == (
        f"Milvus at {endpoint.uri} refused the login of `root` (x): the password Pulumi holds "
        "for it is not the one Milvus has"
    )


def test_through_an_ssh_tunnel_to_the_docker_host(
    endpoint: Endpoint, root: Login, fake_ssh: tuple[str, Path]
) -> None:
    ssh, log = fake_ssh
    via = Endpoint(endpoint.uri, "ssh://deploy@10.25.20.20:2222", ("-o", "BatchMode=yes"), wait_seconds=5)
    with open_session(via, root, "list databases", ssh=ssh) as s:
        assert s.uri != endpoint.uri and "default" in ops.read_databases(s)
    argv = json.loads(log.read_text().splitlines()[0])
    port = int(endpoint.uri.rsplit(":", 1)[1])
    assert argv[:5] == ["-o", "BatchMode=yes", "-N", "-o", "ExitOnForwardFailure=yes"]
    assert (
        argv[5] == "-L"
        and argv[6].endswith(f":127.0.0.1:{port}")
        and argv[-3:] == ["-p", "2222", "deploy@10.25.20.20"]
    )
    os.environ["FAKE_SSH_FAIL"] = "1"
    with pytest.raises(AccessError) as error, open_session(via, root, "list databases", ssh=ssh):
        pass
    assert str(error.value) == (
        f"the SSH tunnel to ssh://deploy@10.25.20.20:2222 for Milvus at {endpoint.uri} ended before it was up "
        "(list databases), exit status 255: deploy@10.25.20.20: Permission denied (publickey)."
    )


def test_tunnel_command_for_a_wildcard_or_ipv6_publish_address() -> None:
    wildcard = tunnel_command(Endpoint("http://0.0.0.0:19530", "ssh://deploy@h"), 40000)
    assert wildcard == [
        "ssh",
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-L",
        "127.0.0.1:40000:127.0.0.1:19530",
        "deploy@h",
    ]
    assert (
        tunnel_command(Endpoint("http://[fd00::5]:19530", "ssh://h"), 1)[-2] == "127.0.0.1:1:[fd00::5]:19530"
    )
    with pytest.raises(AccessError, match="is not an ssh://USER@HOST"):
        tunnel_command(Endpoint("http://h:1", "tcp://h"), 1)


def test_scrub_replaces_every_secret_longest_first() -> None:
    assert scrub("pw=abc-secret and abc\n next", ["abc", "abc-secret"]) == "pw=**** and **** next"


def test_a_failure_never_shows_a_password_nor_the_encoded_token() -> None:
    session = Session(
        Endpoint("http://m:1"), "http://m:1", Login("root", "root-pw-1"), "create user u", ["u-pw-22"]
    )
    token = base64.b64encode(b"root:root-pw-1").decode()
    echoed = Exception(f"bad header {token}, password root-pw-1, new u-pw-22")
    assert session.failure("create user u", echoed) == (
        "Milvus at http://m:1: create user u: create user u failed: bad header ****, password ****, new ****"
    )
