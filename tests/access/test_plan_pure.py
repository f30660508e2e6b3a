"""`operations.plan` without a server: what leaves the stack's scope is dropped, what it never declared is not.

The real-server tests (test_operations_real.py) apply plans; this pins each plan's whole list of changes.
"""

from __future__ import annotations

from components.access import operations as ops
from components.access.privileges import Grant

READ = Grant("Collection", "*", "Search", "team_a")
LOAD = Grant("Collection", "*", "Load", "team_a")
ACTUAL = ops.Snapshot(
    databases=frozenset({"default", "team_a", "team_b"}),
    roles={"reader": frozenset({READ, LOAD}), "theirs": frozenset({READ})},
    users={"ana": frozenset({"reader"}), "bob": frozenset({"theirs"})},
)


def test_removed_from_the_stack_is_dropped_bindings_and_grants_first() -> None:
    managed = ops.Desired(
        databases=frozenset({"team_a"}),
        roles={"reader": frozenset({READ, LOAD})},
        users={"ana": frozenset({"reader"})},
    )
    assert ops.plan(ops.Desired(), ACTUAL, managed=managed) == [
        ops.Change(ops.UNBIND, "ana", role="reader"),
        ops.Change(ops.REVOKE, "reader", LOAD),
        ops.Change(ops.REVOKE, "reader", READ),
        ops.Change(ops.DROP_USER, "ana"),
        ops.Change(ops.DROP_ROLE, "reader"),
        ops.Change(ops.DROP_DATABASE, "team_a"),
    ]


def test_what_the_stack_never_declared_is_left_alone() -> None:
    declared = ops.Desired(databases=frozenset({"team_a"}), roles={"reader": frozenset({READ})})
    assert ops.plan(declared, ACTUAL) == [ops.Change(ops.REVOKE, "reader", LOAD)]
