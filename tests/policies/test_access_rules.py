"""policies/access_rules.py: who may do what in Milvus (admin, every object of every database, users without a
role), databases that drop their collections, and root's default password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.access.provider import TYPES
from policies import access_rules
from policies.catalog import evaluate
from tests.policies.good_stack import good_stack, resource
from tests.policies.mutations import (
    Edge,
    Mutation,
    Resources,
    assert_edge,
    assert_trips_exactly_its_rule,
    edge_cases,
    edit,
    fails,
    passes,
    rule_of,
    setter,
)

READER = [
    {"objectType": "Collection", "objectName": "*", "privilege": "Search", "database": "team_a"},
    {"objectType": "Global", "objectName": "*", "privilege": "DescribeCollection", "database": "team_a"},
]
EVERYTHING = {"objectType": "Collection", "objectName": "*", "privilege": "Query", "database": "*"}


def root_password(password: Any = "a-long-generated-root-password") -> Any:
    return resource(access_rules.ROOT_PASSWORD, "milvus-access-root-password", {"password": password})


def database(name: str = "team_a", drop: bool = False) -> Any:
    return resource(
        access_rules.DATABASE, f"milvus-access-database-{name}", {"name": name, "dropCollections": drop}
    )


def role(name: str = "reader", grants: list[dict[str, Any]] | None = None) -> Any:
    return resource(
        access_rules.ROLE, f"milvus-access-role-{name}", {"name": name, "grants": grants or READER}
    )


def user(name: str = "alice") -> Any:
    return resource(
        access_rules.USER, f"milvus-access-user-{name}", {"name": name, "password": "pw-of-" + name}
    )


def binding(user_name: Any = "alice", role_name: Any = "reader") -> Any:
    return resource(
        access_rules.ROLE_BINDING,
        f"milvus-access-binding-{user_name}-{role_name}",
        {"user": user_name, "role": role_name},
    )


def team() -> list[Any]:
    """A read-only team login: the good stack's access part."""
    return [root_password(), database(), role(), user(), binding()]


def with_access(*extra: Any, base: Callable[[], list[Any]] = team) -> Callable[[Resources], Resources]:
    return lambda rs: [*rs, *base(), *extra]


def replacing(kind: str, name: str, key: str, value: Any) -> Callable[[Resources], Resources]:
    return lambda rs: edit([*rs, *team()], name, setter(key, value), kind)


ALICE = "milvus-access-user-alice"

MUTATIONS = [
    Mutation(
        "milvus-user-not-admin",
        with_access(binding("alice", "admin")),
        [
            (
                ALICE,
                'Milvus user "alice" is given the built-in admin role, which can do everything root can; declare '
                "a role with only the privileges the team needs, or exempt the user with a reason.",
            )
        ],
    ),
    Mutation(
        "milvus-user-not-everything",
        replacing(access_rules.ROLE, "milvus-access-role-reader", "grants", [*READER, EVERYTHING]),
        [
            (
                ALICE,
                'Milvus user "alice" is given role "reader", which grants Query on every collection in every '
                "database; name the databases (and collections) the team works in, or exempt the user with a "
                "reason.",
            )
        ],
    ),
    Mutation(
        "milvus-user-has-role",
        with_access(user("bob")),
        [
            (
                "milvus-access-user-bob",
                'Milvus user "bob" has no role, so nobody decided what it is for; give it the role its team '
                "needs in `milvus.access.users`, or remove it.",
            )
        ],
    ),
    Mutation(
        "milvus-database-keeps-collections",
        with_access(database("old_project", drop=True)),
        [
            (
                "milvus-access-database-old_project",
                'Milvus database "old_project" is declared with dropCollections, so removing it from the stack '
                "drops every collection in it; set it only for the `pulumi up` that removes the database, and "
                "exempt it with the reason.",
            )
        ],
    ),
    Mutation(
        "milvus-managed-root-password-not-default",
        replacing(access_rules.ROOT_PASSWORD, "milvus-access-root-password", "password", "Milvus"),
        [
            (
                "milvus-access-root-password",
                "Root's Milvus password is the built-in default `Milvus`; set `milvus.rootPassword` (or leave it "
                "unset to have one generated).",
            )
        ],
    ),
]

EXEMPT_ALICE = [{"resource": "alice", "reason": "the team's admin for the migration, until INC-7 closes"}]

EDGES: dict[str, list[Edge]] = {
    "milvus-user-not-admin": [
        fails("bound to admin", with_access(binding("alice", "admin"))),
        fails("only admin", with_access(user("carol"), binding("carol", "admin"))),
        passes("a narrow role", with_access()),
        passes("public is not admin", with_access(binding("alice", "public"))),
        passes("exempted with a reason", with_access(binding("alice", "admin")), exemptions=EXEMPT_ALICE),
        passes("an undeclared user", with_access(binding("ghost", "admin"))),
    ],
    "milvus-user-not-everything": [
        fails(
            "every collection everywhere",
            replacing(access_rules.ROLE, "milvus-access-role-reader", "grants", [EVERYTHING]),
        ),
        fails(
            "every global privilege everywhere",
            replacing(
                access_rules.ROLE,
                "milvus-access-role-reader",
                "grants",
                [{"objectType": "Global", "objectName": "*", "privilege": "All", "database": "*"}],
            ),
        ),
        passes("every collection of one database", with_access()),
        passes(
            "one collection in every database",
            replacing(
                access_rules.ROLE,
                "milvus-access-role-reader",
                "grants",
                [{**EVERYTHING, "objectName": "docs"}],
            ),
        ),
        passes("a wide role nobody has", with_access(role("wide", [EVERYTHING]))),
        passes(
            "exempted with a reason",
            replacing(access_rules.ROLE, "milvus-access-role-reader", "grants", [EVERYTHING]),
            exemptions=EXEMPT_ALICE,
        ),
    ],
    "milvus-user-has-role": [
        fails("no binding", with_access(user("bob"))),
        fails("its binding is for another user", with_access(user("bob"), binding("carol", "reader"))),
        passes("bound", with_access()),
        passes("bound to public only", with_access(user("bob"), binding("bob", "public"))),
        passes(
            "a binding's user unknown (could be bob)", with_access(user("bob"), binding(access_rules.UNKNOWN))
        ),
    ],
    "milvus-database-keeps-collections": [
        fails("dropCollections", with_access(database("old", drop=True))),
        fails(
            "dropCollections on the team's",
            replacing(access_rules.DATABASE, "milvus-access-database-team_a", "dropCollections", True),
        ),
        passes("kept", with_access()),
        passes(
            "exempted with a reason",
            with_access(database("old", drop=True)),
            exemptions=[{"resource": "old", "reason": "project ended, data archived in INC-9"}],
        ),
    ],
    "milvus-managed-root-password-not-default": [
        fails(
            "Milvus",
            replacing(access_rules.ROOT_PASSWORD, "milvus-access-root-password", "password", "Milvus"),
        ),
        fails(
            "five characters",
            replacing(access_rules.ROOT_PASSWORD, "milvus-access-root-password", "password", "12345"),
        ),
        passes(
            "six characters",
            replacing(access_rules.ROOT_PASSWORD, "milvus-access-root-password", "password", "123456"),
        ),
        passes(
            "unknown during preview",
            replacing(
                access_rules.ROOT_PASSWORD, "milvus-access-root-password", "password", access_rules.UNKNOWN
            ),
        ),
    ],
}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=rule_of)
def test_mutation_trips_exactly_its_rule_with_the_exact_message(mutation: Mutation) -> None:
    assert_trips_exactly_its_rule(mutation)


@pytest.mark.parametrize(("rule", "edge"), edge_cases(EDGES))
def test_edge(rule: str, edge: Edge) -> None:
    assert_edge(rule, edge)


def test_a_read_only_team_login_passes_the_whole_pack() -> None:
    assert evaluate([*good_stack(), *team()]) == []


def test_the_pack_and_the_program_name_the_same_types() -> None:
    assert {
        access_rules.ROOT_PASSWORD,
        access_rules.DATABASE,
        access_rules.ROLE,
        access_rules.USER,
        access_rules.ROLE_BINDING,
    } == set(TYPES.values())
