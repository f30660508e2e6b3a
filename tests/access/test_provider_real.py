"""The dynamic-provider adapter called directly, as the engine calls it (create, read, diff, update, delete),
against the real Milvus of tests/milvus_server.py (2.3.5, authentication on; see test_operations_real.py
for what that server cannot prove about 2.5.15).

Root's password is rotated on the session's shared server and always rotated back (`finally`), since the
other tests log in with the fixture's password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from components.access import operations as ops
from components.access.connection import AccessError, Endpoint, Login, open_session
from components.access.provider import (
    ROTATED_WITH_A_REMOVAL,
    DatabaseProvider,
    RoleBindingProvider,
    RoleProvider,
    RootPasswordProvider,
    UserProvider,
    _Provider,
)
from tests.conftest import MilvusEndpoint


def outs(result: Any) -> dict[str, Any]:
    """A provider result's outputs (typed optional by the SDK; every operation here returns them)."""
    assert result.outs is not None
    return dict(result.outs)


def grant(privilege: str, database: str, object_type: str = "Collection") -> dict[str, str]:
    return {"objectType": object_type, "objectName": "*", "privilege": privilege, "database": database}


@pytest.fixture
def base(endpoint: Endpoint, root: Login) -> dict[str, Any]:
    return {"endpoint": endpoint.to_wire(), "rootPassword": root.password}


@contextmanager
def root_session(endpoint: Endpoint, root: Login) -> Iterator[Any]:
    with open_session(endpoint, root, "test") as s:
        yield s


def test_database_role_user_binding_lifecycle(
    base: dict[str, Any], endpoint: Endpoint, root: Login, unique: str
) -> None:
    db, role, user = f"{unique}_db", f"{unique}_role", f"{unique}_user"
    database, roles, users, bindings = (
        DatabaseProvider(),
        RoleProvider(),
        UserProvider(),
        RoleBindingProvider(),
    )
    d = {**base, "name": db, "dropCollections": False}
    r = {**base, "name": role, "grants": [grant("Search", db)]}
    u = {**base, "name": user, "password": "user-pw-one"}
    b = {**base, "user": user, "role": role}
    try:
        assert database.create(d).id == db
        created = roles.create(r)
        assert (created.id, outs(created)["grants"]) == (role, [grant("Search", db)])
        assert outs(users.create(u))["passwordWorks"] is True
        assert bindings.create(b).id == f"{user}/{role}"
        # A second apply changes nothing: read gives back what was declared, and diff sees no change.
        for provider, props, id_ in (
            (database, d, db),
            (roles, r, role),
            (users, u, user),
            (bindings, b, f"{user}/{role}"),
        ):
            read = provider.read(id_, props)
            assert read.id == id_
            assert provider.diff(id_, outs(read), props).changes is False
        # Grants added and revoked in place; a changed name replaces.
        r2 = {**r, "grants": [grant("Query", db), grant("DescribeCollection", db, "Global")]}
        assert roles.diff(role, r, r2).changes is True and roles.diff(role, r, r2).replaces == []
        roles.update(role, r, r2)
        assert outs(roles.read(role, r2))["grants"] == sorted(
            r2["grants"], key=lambda g: (g["objectType"], g["privilege"])
        )
        assert roles.diff(role, r2, {**r2, "name": "other"}).replaces == ["name"]
        assert bindings.diff("x", b, {**b, "role": "public"}).replaces == ["role"]
        # Password rotated in place, old one from state; the binding survives it.
        u2 = {**u, "password": "user-pw-two"}
        assert users.diff(user, u, u2).changes is True and users.diff(user, u, u2).replaces == []
        users.update(user, u, u2)
        assert outs(users.read(user, u2))["passwordWorks"] is True
        assert outs(users.read(user, u))["passwordWorks"] is False
        assert bindings.read(f"{user}/{role}", b).id == f"{user}/{role}"
    finally:
        bindings.delete(f"{user}/{role}", b)
        users.delete(user, {**u, "password": "user-pw-two"})
        roles.delete(role, r)
        database.delete(db, d)
    # Deleted: read reports them gone.
    assert database.read(db, d).id == roles.read(role, r).id == users.read(user, u).id == ""
    assert bindings.read(f"{user}/{role}", b).id == ""


def test_drift_by_hand_is_seen_by_read_and_repaired_by_update(
    base: dict[str, Any], endpoint: Endpoint, root: Login, unique: str
) -> None:
    role, user = f"{unique}_role", f"{unique}_user"
    roles, users = RoleProvider(), UserProvider()
    r = {**base, "name": role, "grants": [grant("Search", "default"), grant("Query", "default")]}
    u = {**base, "name": user, "password": "declared-pw"}
    try:
        roles.create(r)
        users.create(u)
        RoleBindingProvider().create({**base, "user": user, "role": role})
        with root_session(endpoint, root) as s:
            s.client().revoke_privilege(role, "Collection", "Query", "*", db_name="default", timeout=10)
            s.client().update_password(user, "declared-pw", "changed-by-hand", timeout=10)
        refreshed_role = outs(roles.read(role, r))
        assert refreshed_role["grants"] == [grant("Search", "default")]
        assert roles.diff(role, refreshed_role, r).changes is True
        roles.update(role, refreshed_role, r)
        assert outs(roles.read(role, r))["grants"] == [grant("Query", "default"), grant("Search", "default")]
        assert roles.diff(role, outs(roles.read(role, r)), r).changes is False  # order means nothing
        refreshed_user = outs(users.read(user, u))
        assert (
            refreshed_user["passwordWorks"] is False and users.diff(user, refreshed_user, u).changes is True
        )
        users.update(user, refreshed_user, u)  # neither password in state works: re-created, roles kept
        with root_session(endpoint, root) as s:
            assert ops.password_works(s, user, "declared-pw")
            assert ops.roles_of(s, user) == {role}
            s.client().drop_user(user, timeout=10)  # deleted by hand
        assert users.read(user, u).id == ""
    finally:
        UserProvider().delete(user, u)
        roles.delete(role, r)


def test_deleting_a_role_takes_it_from_its_users_first(
    base: dict[str, Any], endpoint: Endpoint, root: Login, unique: str
) -> None:
    role, user = f"{unique}_role", f"{unique}_user"
    r = {**base, "name": role, "grants": [grant("Search", "default")]}
    u = {**base, "name": user, "password": "some-pw-1"}
    RoleProvider().create(r)
    UserProvider().create(u)
    RoleBindingProvider().create({**base, "user": user, "role": role})
    RoleProvider().delete(role, r)  # Milvus itself refuses to drop a role that still holds privileges
    with root_session(endpoint, root) as s:
        assert not ops.role_exists(s, role) and ops.roles_of(s, user) == frozenset()
    UserProvider().delete(user, u)


def test_a_non_empty_database_is_refused_until_drop_collections_was_applied(
    base: dict[str, Any], endpoint: Endpoint, root: Login, unique: str
) -> None:
    db = f"{unique}_db"
    databases = DatabaseProvider()
    d = {**base, "name": db, "dropCollections": False}
    databases.create(d)
    with root_session(endpoint, root) as s:
        s.client(db).create_collection("kept", dimension=4, timeout=30)
    with pytest.raises(AccessError, match=f"drop database {db}: database {db} still holds 1 collection"):
        databases.delete(db, d)
    opted_in = {**d, "dropCollections": True}
    assert databases.diff(db, d, opted_in).changes is True and databases.diff(db, d, opted_in).replaces == []
    databases.update(db, d, opted_in)
    databases.delete(db, opted_in)
    assert databases.read(db, d).id == ""


def test_a_removal_after_root_was_rotated_in_the_same_update_says_how_to_finish(
    base: dict[str, Any], endpoint: Endpoint, unique: str
) -> None:
    db, role = f"{unique}_db", f"{unique}_role"
    d = {**base, "name": db, "dropCollections": False}
    r = {**base, "name": role, "grants": []}
    DatabaseProvider().create(d)
    RoleProvider().create(r)
    before_rotation = {"rootPassword": "root-before-rotation"}  # what a removed object's state still holds
    try:
        for delete, props, operation in [
            (DatabaseProvider().delete, {**d, **before_rotation}, f"drop database {db}"),
            (RoleProvider().delete, {**r, **before_rotation}, f"drop role {role}"),
        ]:
            with pytest.raises(AccessError) as refused:
                delete(props["name"], props)
            assert str(refused.value) == (
                f"Milvus at {endpoint.describe()} refused the login of `root` ({operation}): the password "
                f"Pulumi holds for it is not the one Milvus has. {ROTATED_WITH_A_REMOVAL}"
            )
        assert DatabaseProvider().read(db, d).id == db and RoleProvider().read(role, r).id == role
    finally:
        DatabaseProvider().delete(db, d)
        RoleProvider().delete(role, r)


def test_root_password_rotation_from_state(milvus_server: MilvusEndpoint, endpoint: Endpoint) -> None:
    provider, original = RootPasswordProvider(), milvus_server.root_password
    old = {"endpoint": endpoint.to_wire(), "password": original}
    new = {**old, "password": "rotated-root-pw"}
    assert outs(provider.create(old))["passwordWorks"] is True
    with pytest.raises(AccessError, match=r"root's password there is not `milvus\.rootPassword`"):
        provider.create(new)
    try:
        assert (
            provider.diff("root", old, new).changes is True and provider.diff("root", old, new).replaces == []
        )
        provider.update("root", old, new)
        assert outs(provider.read("root", new))["passwordWorks"] is True
        assert outs(provider.read("root", old))["passwordWorks"] is False
        # A second up (or one after a rotation that finished on the server but not in state) changes nothing.
        provider.update("root", new, new)
        provider.update("root", old, new)
        with pytest.raises(
            AccessError, match="root logs in with neither the password Pulumi last set nor"
        ) as error:
            provider.update("root", {**old, "password": "lost-1"}, {**old, "password": "lost-2"})
        assert "lost-1" not in str(error.value) and "rotated-root-pw" not in str(error.value)
    finally:
        provider.update("root", new, old)
    assert outs(provider.read("root", old))["passwordWorks"] is True


def test_unreachable_milvus_is_a_clear_error_for_every_operation(unique: str) -> None:
    props = {
        "endpoint": Endpoint("http://127.0.0.1:9", wait_seconds=1).to_wire(),
        "rootPassword": "root-secret-pw",
        "name": unique,
        "grants": [],
    }
    for call, operation in (
        (lambda: RoleProvider().create(props), f"create role {unique}"),
        (lambda: RoleProvider().read(unique, props), f"read role {unique}"),
        (lambda: RoleProvider().delete(unique, props), f"drop role {unique}"),
    ):
        with pytest.raises(AccessError) as error:
            call()
        assert str(error.value).startswith(
            f"cannot reach Milvus at http://127.0.0.1:9 ({operation}; waited 1s)"
        )
        assert "root-secret-pw" not in str(error.value)


def test_the_adapter_tunnels_when_the_endpoint_says_so(
    base: dict[str, Any], fake_ssh: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    ssh, log = fake_ssh
    monkeypatch.setattr(_Provider, "ssh", ssh)
    via = {**base, "endpoint": {**base["endpoint"], "sshHost": "ssh://deploy@docker-host", "sshOptions": []}}
    d = {**via, "name": f"{unique}_db", "dropCollections": False}
    DatabaseProvider().create(d)
    DatabaseProvider().delete(d["name"], d)
    assert len(log.read_text().splitlines()) == 2  # one tunnel per operation, each ended after it
