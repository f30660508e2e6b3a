"""The thin Pulumi dynamic-provider adapter around components/access/operations.py.

One resource type per kind, `pulumi-python:dynamic/milvus:<Kind>`:

| kind | id | replaced when | updated in place |
|---|---|---|---|
| `RootPassword` | `root` | never | `password`: root's password rotated (old one from state) |
| `Database` | its name | `name` changes | `dropCollections` (state only: read at delete) |
| `Role` | its name | `name` changes | `grants`: the missing granted, the extra revoked |
| `User` | its name | `name` changes | `password`: rotated (old one from state) |
| `RoleBinding` | `user/role` | `user` or `role` changes | - |

Every resource also takes `endpoint` (where Milvus is and how to get there: components/access/connection.py)
and, except RootPassword, `rootPassword` (root's current password, from RootPassword's output, so a rotation
happens before anything else connects). A changed endpoint or root password is an update that only
records them: the next refresh or delete must log in with what works then.

`read` is what `pulumi refresh` sees: a role's grants as the server has them (a privilege revoked by hand
shows as drift and the next `up` grants it again), whether a user or binding still exists (deleted by hand:
gone from state, created again), and whether a stored password still logs in (`passwordWorks`).
`create` adopts what already exists under the declared name (a database or role made by hand in Attu is
taken over as declared; a user's password becomes the declared one) and undoes its own steps when one
fails. Deleting a role or user takes its bindings away first; a database that still holds collections is
never dropped unless its `dropCollections` was set (and applied) before.

Secrets: the provider objects hold nothing (no fields; `serialize_as_secret_always = False` keeps the
serialized provider readable in state and plans, and tests prove no secret is in it); passwords arrive per
operation as secret inputs, are marked secret outputs (`additional_secret_outputs`), and errors are
`AccessError`s raised `from None` with every password replaced by `****`. The classes are imported by
reference in the provider process (`python -m pulumi.dynamic` in the project directory), so the
`components` package must be importable there, which it is: Pulumi starts it in the project directory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult
from pulumi.runtime import rpc

from components.access import operations as ops
from components.access.connection import (
    AccessError,
    Endpoint,
    Login,
    LoginRefused,
    Session,
    can_log_in,
    open_session,
)
from components.access.privileges import ROOT_USER, Grant

# The value the engine sends a provider for an input not known until the update runs (during a preview).
UNKNOWN = rpc.UNKNOWN
MODULE = "milvus"
TYPE_PREFIX = f"pulumi-python:dynamic/{MODULE}:"
CONNECTION_INPUTS = ("endpoint", "rootPassword")


def _unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown(v) for v in value)
    return value == UNKNOWN


def _canonical(key: str, value: Any) -> Any:
    """Grants compare as a set: their order in a stack means nothing."""
    if key == "grants" and isinstance(value, list) and not _unknown(value):
        return sorted(Grant.from_wire(g) for g in value)
    return value


def _differs(key: str, old: Any, new: Any) -> bool:
    return _unknown(new) or _canonical(key, old) != _canonical(key, new)


def _state(props: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Outputs: the inputs (without the engine's `__provider`) and what was observed."""
    return {**{k: v for k, v in props.items() if not k.startswith("__")}, **extra}


def grants_of(props: Mapping[str, Any]) -> list[Grant]:
    return sorted(Grant.from_wire(g) for g in props.get("grants") or ())


class _Provider(ResourceProvider):
    """What every kind shares: which inputs replace, which update, how to log in."""

    # Holds no field at all: nothing of a stack's is serialized with it.
    serialize_as_secret_always = False
    replace_on: ClassVar[tuple[str, ...]] = ("name",)
    update_on: ClassVar[tuple[str, ...]] = ()
    ssh: ClassVar[str] = "ssh"  # tests point this at a stand-in

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in self.replace_on if _differs(k, olds.get(k), news.get(k))]
        fields = (*self.replace_on, *self.update_on, *CONNECTION_INPUTS)
        changed = [k for k in fields if _differs(k, olds.get(k), news.get(k))]
        drift = olds.get("passwordWorks") is False
        return DiffResult(changes=bool(changed) or drift, replaces=replaces, delete_before_replace=False)

    def login(self, props: Mapping[str, Any]) -> Login:
        return Login(ROOT_USER, str(props["rootPassword"]))

    @contextmanager
    def session(
        self, props: Mapping[str, Any], operation: str, *secrets: str, patient: bool = True
    ) -> Iterator[Session]:
        endpoint = Endpoint.from_wire(props["endpoint"])
        login = self.login(props)
        with open_session(endpoint, login, operation, secrets, ssh=self.ssh, patient=patient) as session:
            yield session

    @contextmanager
    def removal(self, props: Mapping[str, Any], operation: str) -> Iterator[Session]:
        """A session for `delete`, which has only the state's root password. Pulumi deletes last, after every
        update, so when the same `pulumi up` rotated root that password is already gone: say how to finish."""
        try:
            with self.session(props, operation, patient=False) as session:
                yield session
        except LoginRefused as refused:
            raise AccessError(f"{refused}. {ROTATED_WITH_A_REMOVAL}") from None


ROTATED_WITH_A_REMOVAL = (
    "If `milvus.rootPassword` changed in this same update, root was rotated before this removal, which "
    "logs in with the password from before: set `milvus.rootPassword` back to its previous value, run "
    "`pulumi up` to finish the removal, then rotate root in a `pulumi up` of its own"
)


class RootPasswordProvider(_Provider):
    """Root's password: checked at create, rotated at update (old from state), left alone at delete."""

    replace_on = ()
    update_on = ("password",)

    def _works(self, props: Mapping[str, Any], password: str, operation: str, patient: bool = True) -> bool:
        endpoint = Endpoint.from_wire(props["endpoint"])
        return can_log_in(endpoint, Login(ROOT_USER, password), operation, self.ssh, patient)

    def create(self, props: dict[str, Any]) -> CreateResult:
        endpoint = Endpoint.from_wire(props["endpoint"])
        if not self._works(props, str(props["password"]), "check root's password"):
            raise AccessError(
                f"Milvus at {endpoint.describe()}: root's password there is not `milvus.rootPassword` (changed "
                "by hand?): set `milvus.rootPassword` to the password root has now, run `pulumi up`, then "
                "change it in the stack to rotate it"
            )
        return CreateResult(ROOT_USER, _state(props, passwordWorks=True))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        works = self._works(props, str(props["password"]), "check root's password", patient=False)
        return ReadResult(id_, _state(props, passwordWorks=works))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old, new = str(olds["password"]), str(news["password"])
        endpoint = Endpoint.from_wire(news["endpoint"])
        operation = "rotate root's password"
        if old != new and self._works(news, old, operation):
            change = ops.Change(ops.CHANGE_PASSWORD, ROOT_USER, password=new, old_password=old)
            with open_session(endpoint, Login(ROOT_USER, old), operation, [new], ssh=self.ssh) as session:
                ops.apply(session, [change])
        elif not self._works(news, new, operation):
            # Neither the password Pulumi last set nor the new one: changed by hand. Nothing here knows the
            # password root has, and root cannot be re-created.
            raise AccessError(
                f"Milvus at {endpoint.describe()}: {operation}: root logs in with neither the password Pulumi "
                "last set nor the new `milvus.rootPassword` (changed by hand?): set `milvus.rootPassword` to "
                "the password root has now, run `pulumi up`, then change it"
            )
        return UpdateResult(_state(news, passwordWorks=True))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Root is Milvus's own: removing this resource stops managing its password, nothing more."""


class DatabaseProvider(_Provider):
    update_on = ("dropCollections",)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = str(props["name"])
        with self.session(props, f"create database {name}") as s:
            if name not in ops.read_databases(s):
                ops.apply(s, [ops.Change(ops.CREATE_DATABASE, name)])
        return CreateResult(name, _state(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.session(props, f"read database {id_}", patient=False) as s:
            if id_ not in ops.read_databases(s):
                return ReadResult("", {})
        return ReadResult(id_, _state(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self.create(news).outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.removal(props, f"drop database {id_}") as s:
            ops.apply(s, ops.drop_database_plan(s, id_, bool(props.get("dropCollections"))))


class RoleProvider(_Provider):
    update_on = ("grants",)

    def _reconcile(self, props: Mapping[str, Any], operation: str) -> None:
        name, grants = str(props["name"]), grants_of(props)
        with self.session(props, operation) as s:
            exists = ops.role_exists(s, name)
            actual = ops.read_grants(s, name, {g.database for g in grants}) if exists else frozenset()
            create = [] if exists else [ops.Change(ops.CREATE_ROLE, name)]
            ops.apply(s, ops.ordered([*create, *ops.plan_grants(name, grants, actual)]))

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._reconcile(props, f"create role {props['name']}")
        return CreateResult(str(props["name"]), _state(props, grants=[g.to_wire() for g in grants_of(props)]))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.session(props, f"read role {id_}", patient=False) as s:
            if not ops.role_exists(s, id_):
                return ReadResult("", {})
            actual = ops.read_grants(s, id_, {g.database for g in grants_of(props)})
        return ReadResult(id_, _state(props, grants=[g.to_wire() for g in sorted(actual)]))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._reconcile(news, f"update role {news['name']}")
        return UpdateResult(_state(news, grants=[g.to_wire() for g in grants_of(news)]))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.removal(props, f"drop role {id_}") as s:
            ops.apply(s, ops.drop_role_plan(s, id_))


class UserProvider(_Provider):
    update_on = ("password",)

    def _set_password(self, props: Mapping[str, Any], old: str | None, operation: str) -> None:
        """Make the user exist with its password: create it, rotate from `old`, or (when no password Pulumi
        holds logs in) re-create it as root and give it back the roles it has."""
        name, new = str(props["name"]), str(props["password"])
        with self.session(props, operation, new, old or "") as s:
            roles = ops.roles_of(s, name)
            if roles is None:
                ops.apply(s, [ops.Change(ops.CREATE_USER, name, password=new)])
            elif ops.password_works(s, name, new):
                pass
            elif old and ops.password_works(s, name, old):
                ops.apply(s, [ops.Change(ops.CHANGE_PASSWORD, name, password=new, old_password=old)])
            else:
                changes = [*ops.drop_user_plan(s, name), ops.Change(ops.CREATE_USER, name, password=new)]
                ops.apply(s, changes + [ops.Change(ops.BIND, name, role=r) for r in sorted(roles)])

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._set_password(props, None, f"create user {props['name']}")
        return CreateResult(str(props["name"]), _state(props, passwordWorks=True))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.session(props, f"read user {id_}", str(props["password"]), patient=False) as s:
            if ops.roles_of(s, id_) is None:
                return ReadResult("", {})
            works = ops.password_works(s, id_, str(props["password"]))
        return ReadResult(id_, _state(props, passwordWorks=works))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._set_password(news, str(olds.get("password") or ""), f"update user {news['name']}")
        return UpdateResult(_state(news, passwordWorks=True))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.removal(props, f"drop user {id_}") as s:
            ops.apply(s, ops.drop_user_plan(s, id_))


class RoleBindingProvider(_Provider):
    replace_on = ("user", "role")

    def create(self, props: dict[str, Any]) -> CreateResult:
        user, role = str(props["user"]), str(props["role"])
        with self.session(props, f"give role {role} to user {user}") as s:
            if role not in (ops.roles_of(s, user) or frozenset()):
                ops.apply(s, [ops.Change(ops.BIND, user, role=role)])
        return CreateResult(f"{user}/{role}", _state(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        user, role = str(props["user"]), str(props["role"])
        with self.session(props, f"read the roles of user {user}", patient=False) as s:
            if role not in (ops.roles_of(s, user) or frozenset()):
                return ReadResult("", {})
        return ReadResult(id_, _state(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self.create(news).outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        user, role = str(props["user"]), str(props["role"])
        with self.removal(props, f"take role {role} from user {user}") as s:
            if role in (ops.roles_of(s, user) or frozenset()):
                ops.apply(s, [ops.Change(ops.UNBIND, user, role=role)])


# --------------------------------------------------------------------------------------------------
# The resources (what the component declares)
# --------------------------------------------------------------------------------------------------

SECRET_OUTPUTS = ["password", "rootPassword"]


def _options(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
    )


def _as_root(
    endpoint: pulumi.Input[Mapping[str, Any]], root_password: pulumi.Input[str], **props: Any
) -> dict[str, Any]:
    """The inputs of a resource that root manages: where Milvus is, root's password (secret), its own."""
    return {"endpoint": endpoint, "rootPassword": pulumi.Output.secret(root_password), **props}


class RootPassword(Resource, module=MODULE, name="RootPassword"):
    password: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[Mapping[str, Any]],
        password: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"endpoint": endpoint, "password": pulumi.Output.secret(password)}
        super().__init__(RootPasswordProvider(), name, props, _options(opts))


class Database(Resource, module=MODULE, name="Database"):
    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[Mapping[str, Any]],
        root_password: pulumi.Input[str],
        database: str,
        drop_collections: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _as_root(endpoint, root_password, name=database, dropCollections=drop_collections)
        super().__init__(DatabaseProvider(), name, props, _options(opts))


class Role(Resource, module=MODULE, name="Role"):
    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[Mapping[str, Any]],
        root_password: pulumi.Input[str],
        role: str,
        grants: list[Grant],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _as_root(endpoint, root_password, name=role, grants=[g.to_wire() for g in sorted(grants)])
        super().__init__(RoleProvider(), name, props, _options(opts))


class User(Resource, module=MODULE, name="User"):
    password: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[Mapping[str, Any]],
        root_password: pulumi.Input[str],
        user: str,
        password: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _as_root(endpoint, root_password, name=user, password=pulumi.Output.secret(password))
        super().__init__(UserProvider(), name, props, _options(opts))


class RoleBinding(Resource, module=MODULE, name="RoleBinding"):
    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[Mapping[str, Any]],
        root_password: pulumi.Input[str],
        user: str,
        role: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _as_root(endpoint, root_password, user=user, role=role)
        super().__init__(RoleBindingProvider(), name, props, _options(opts))


TYPES = {kind: f"{TYPE_PREFIX}{kind}" for kind in ("RootPassword", "Database", "Role", "User", "RoleBinding")}
