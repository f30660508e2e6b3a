"""The pack as a whole, called in-process the way its server calls it: every rule has a failing case beside
its family, metadata and README, today's compose deployment, config and exemptions, and values unknown
during preview."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from policies import (
    access_rules,
    credential_rules,
    host_rules,
    identity_rules,
    isolation_rules,
    kubernetes_cluster_rules,
    kubernetes_pod_rules,
    network_rules,
    operation_rules,
    proxmox_rules,
    role_rules,
    stack_rules,
    vm_rules,
)
from policies.analyzer_client import PlannedResource, PolicyPackError, Violation
from policies.catalog import POLICIES, RULE_INFO, evaluate
from policies.common import UNKNOWN, VM
from tests.policies import (
    test_access_rules,
    test_credential_rules,
    test_host_rules,
    test_identity_rules,
    test_isolation_rules,
    test_kubernetes_cluster_rules,
    test_kubernetes_pod_rules,
    test_network_rules,
    test_operation_rules,
    test_proxmox_rules,
    test_role_rules,
    test_stack_rules,
    test_vm_rules,
)
from tests.policies.compose_stack import COMPOSE_VIOLATIONS, compose_stack
from tests.policies.good_stack import good_stack, port
from tests.policies.mutations import Mutation, edit, env_setter, setter

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"

# Each rule family's module and the tests that break the good stack once per rule of it.
FAMILIES = [
    (access_rules, test_access_rules),
    (identity_rules, test_identity_rules),
    (isolation_rules, test_isolation_rules),
    (host_rules, test_host_rules),
    (network_rules, test_network_rules),
    (operation_rules, test_operation_rules),
    (role_rules, test_role_rules),
    (credential_rules, test_credential_rules),
    (vm_rules, test_vm_rules),
    (proxmox_rules, test_proxmox_rules),
    (stack_rules, test_stack_rules),
    (kubernetes_pod_rules, test_kubernetes_pod_rules),
    (kubernetes_cluster_rules, test_kubernetes_cluster_rules),
]
MUTATIONS: list[Mutation] = [m for _, tests in FAMILIES for m in tests.MUTATIONS]


def by_rule(violations: list[Violation]) -> dict[str, list[Violation]]:
    result: dict[str, list[Violation]] = {}
    for v in violations:
        result.setdefault(v.policy, []).append(v)
    return result


def test_good_stack_passes_every_rule() -> None:
    assert evaluate(good_stack()) == []


def test_every_rule_has_a_failing_mutation() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)), "rule names must be unique"
    covered = [m.rule for m in MUTATIONS]
    assert sorted(covered) == sorted(names), (
        f"rules without a failing fixture: {sorted(set(names) - set(covered))}; "
        f"fixtures for no rule: {sorted(set(covered) - set(names))}"
    )


@pytest.mark.parametrize(("rules", "tests"), FAMILIES, ids=[rules.__name__ for rules, _ in FAMILIES])
def test_mutations_sit_beside_their_rule_family(rules: Any, tests: Any) -> None:
    assert {m.rule for m in tests.MUTATIONS} == {p.name for p in rules.POLICIES}
    assert set(tests.EDGES) == {p.name for p in rules.POLICIES}


def test_every_rule_has_a_table_of_cases_at_its_edges() -> None:
    """Not one failing example: at least two failing and two passing cases per rule."""
    for _, tests in FAMILIES:
        for rule, edges in tests.EDGES.items():
            failing = [e for e in edges if e.fails]
            passing = [e for e in edges if not e.fails]
            assert len(failing) >= 2 and len(passing) >= 2, (rule, len(failing), len(passing))
            assert len({e.name for e in edges}) == len(edges), rule


def test_catalog_lists_every_family_module_once() -> None:
    from policies import catalog

    assert [family for family, _ in FAMILIES] == list(catalog.FAMILIES)


def test_no_module_of_the_pack_is_over_500_lines() -> None:
    for path in README.parent.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 500, path.name


def test_rule_metadata_is_complete() -> None:
    for policy in POLICIES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", policy.name), policy.name
        assert policy.description.endswith(".") and policy.description.count(". ") == 0, policy.name
        assert policy.enforcement_level is not None and policy.enforcement_level.value in (
            "mandatory",
            "advisory",
        )
        info = RULE_INFO[policy.name]
        if info.cis is not None:
            assert policy.description.startswith(f"CIS Docker {info.cis.split('/')[0]}"), policy.name
            assert policy.framework is not None and policy.framework.reference == info.cis
        assert policy.config_schema is not None and "exemptions" in policy.config_schema.properties


def test_compose_deployment_trips_every_rule_it_breaks() -> None:
    violations = by_rule(evaluate(compose_stack()))
    assert sorted(violations) == sorted(COMPOSE_VIOLATIONS)
    # Spot-check that the findings land on the resources the reasons name.
    assert {v.resource for v in violations["container-memory-limited"]} == {
        "etcd",
        "minio",
        "attu",
        "milvus-backup",
    }
    assert {v.resource for v in violations["container-healthcheck"]} == {"attu", "milvus-backup"}
    # milvus-backup too: it reads no credential env, so unless its (bind-mounted) backup.yaml says otherwise it
    # is on minioadmin, and a mounted file is one the pack cannot read.
    assert {v.resource for v in violations["minio-credentials-not-default"]} == {
        "minio",
        "standalone",
        "milvus-backup",
    }
    assert {v.resource for v in violations["container-ports-bound-to-address"]} == {
        "minio",
        "standalone",
        "attu",
    }
    assert [v.message for v in violations["vm-memory-covers-containers"]] == [
        'VM "proj-milvus01" has 8192 MB of dedicated memory, but its 5 containers may use 16384 MB plus '
        "2048 MB headroom = 18432 MB; raise `memory.dedicated` or lower the containers' limits."
    ]
    mandatory = {v.policy for vs in violations.values() for v in vs if v.level == "mandatory"}
    assert "milvus-auth-enabled" in mandatory and "container-seccomp-default" in mandatory


# --------------------------------------------------------------------------------------------------
# Config and exemptions
# --------------------------------------------------------------------------------------------------


def test_exemption_by_resource_or_container_name_needs_a_reason() -> None:
    stack = edit(good_stack(), "attu", setter("privileged", True))
    reason = {"resource": "milvus-attu", "reason": "GPU debugging session, removed after INC-42"}
    assert evaluate(stack, {"container-not-privileged": {"exemptions": [reason]}}) == []
    assert (
        evaluate(stack, {"container-not-privileged": {"exemptions": [{**reason, "resource": "attu"}]}}) == []
    )
    with pytest.raises(PolicyPackError, match=r"`container-not-privileged.exemptions\[0\]` has no `reason`"):
        evaluate(stack, {"container-not-privileged": {"exemptions": [{"resource": "attu"}]}})


def test_enforcement_level_and_unknown_config_keys() -> None:
    stack = edit(good_stack(), "attu", setter("privileged", True))
    assert [v.level for v in evaluate(stack, {"container-not-privileged": "advisory"})] == ["advisory"]
    assert evaluate(stack, {"container-not-privileged": {"enforcementLevel": "disabled"}}) == []
    assert [v.level for v in evaluate(stack, {"all": "advisory"})] == ["advisory"]
    with pytest.raises(
        PolicyPackError, match="`container-privileged`, which is not a rule of milvus-platform-baseline"
    ):
        evaluate(stack, {"container-privileged": "mandatory"})
    with pytest.raises(
        PolicyPackError, match=r"has unknown key `allowedAddress`\. Accepted: enforcementLevel"
    ):
        evaluate(stack, {"attu-address-allowed": {"allowedAddress": ["10.0.0.1"]}})
    with pytest.raises(PolicyPackError, match=r"`vm-memory-covers-containers.headroomMb` is -1"):
        evaluate(stack, {"vm-memory-covers-containers": {"headroomMb": -1}})


# --------------------------------------------------------------------------------------------------
# Preview: unknown values never crash a rule and never count as violations.
# --------------------------------------------------------------------------------------------------


def unknown_leaves(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: unknown_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_leaves(v) for v in value]
    return UNKNOWN


def mutated(mutation: Mutation) -> Callable[[], list[PlannedResource]]:
    return lambda: mutation.mutate(good_stack())


STACKS: dict[str, tuple[Callable[[], list[PlannedResource]], dict[str, Any]]] = {
    "good": (good_stack, {}),
    "compose": (compose_stack, {}),
    **{f"mutation-{m.rule}": (mutated(m), m.config) for m in MUTATIONS},
}


@pytest.mark.parametrize("depth", ["leaves", "whole-properties"])
@pytest.mark.parametrize("stack_name", list(STACKS))
def test_unknown_values_never_add_a_violation(stack_name: str, depth: str) -> None:
    """Making known values unknown can only take findings away; the good stack stays clean."""
    build, config = STACKS[stack_name]

    def blank(r: PlannedResource) -> PlannedResource:
        if depth == "leaves":
            return replace(r, properties=unknown_leaves(dict(r.properties)))
        return replace(r, properties={k: UNKNOWN for k in r.properties})

    stack = build()
    known = {(v.policy, v.urn) for v in evaluate(stack, config)}
    blanked = {(v.policy, v.urn) for v in evaluate([blank(r) for r in stack], config)}
    assert blanked <= known
    if stack_name == "good":
        assert blanked == set()


def test_generated_secrets_unknown_during_preview() -> None:
    """Secret files and env lists are unknown while pulumi_random has not generated passwords."""

    def unknown_contents(props: dict[str, Any]) -> None:
        props["uploads"] = [{**u, "content": UNKNOWN} for u in props["uploads"]]

    stack = good_stack()
    stack = edit(stack, "minio", setter("envs", UNKNOWN))
    stack = edit(stack, "minio", unknown_contents)
    stack = edit(stack, "milvus", unknown_contents)
    stack = edit(
        stack,
        "backup-scheduler",
        lambda p: p.update(envs=[e if "PASSWORD" not in e else UNKNOWN for e in p["envs"]]),
    )
    stack = edit(stack, "milvus-vm", lambda p: p["initialization"]["userAccount"].update(keys=[UNKNOWN]), VM)
    stack = edit(stack, "milvus", setter("ports", [port(19530, 19530, UNKNOWN), port(9091, 9091, UNKNOWN)]))
    assert evaluate(stack) == []
    # A known default next to unknown secrets is still found.
    stack = edit(stack, "milvus", env_setter("MINIO_ACCESS_KEY_ID", "minioadmin"))
    assert {v.policy for v in evaluate(stack)} == {"minio-credentials-not-default"}


def test_readme_documents_every_rule() -> None:
    text = README.read_text()
    for policy in POLICIES:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{policy.name}` |")), None)
        assert row is not None, f"policies/README.md has no row for {policy.name}"
        assert policy.enforcement_level is not None and policy.enforcement_level.value in row
