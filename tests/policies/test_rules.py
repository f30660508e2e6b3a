"""Every rule, called in-process the way the pack's server calls it: good fixture, one mutation per rule,
today's compose deployment, config, exemptions and values unknown during preview."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import Secret

from policies.analyzer_client import PlannedResource, PolicyPackError, Violation
from policies.catalog import POLICIES, RULE_INFO, evaluate
from policies.common import CONTAINER, UNKNOWN, VM
from tests.policies.fixtures import (
    COMPOSE_VIOLATIONS,
    MUTATIONS,
    Mutation,
    compose_stack,
    edit,
    good_stack,
    port,
    setter,
)

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"


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


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.rule for m in MUTATIONS])
def test_mutation_trips_exactly_its_rule_with_the_exact_message(mutation: Any) -> None:
    violations = evaluate(mutation.mutate(good_stack()), mutation.config)
    assert {v.policy for v in violations} == {mutation.rule}
    assert [(v.resource, v.message) for v in violations] == mutation.messages
    policy = next(p for p in POLICIES if p.name == mutation.rule)
    assert policy.enforcement_level is not None
    assert {v.level for v in violations} == {policy.enforcement_level.value}


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
    assert {v.resource for v in violations["minio-credentials-not-default"]} == {"minio", "standalone"}
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


def test_allowed_addresses_are_configurable() -> None:
    stack = edit(good_stack(), "attu", setter("ports", [port(3000, 8000, "10.25.20.19")]))
    assert {v.policy for v in evaluate(stack)} == {"attu-address-allowed"}
    assert evaluate(stack, {"attu-address-allowed": {"allowedAddresses": ["127.0.0.1", "10.25.20.19"]}}) == []
    # The generic 5.14 rule narrows publish addresses only when configured.
    narrowed = evaluate(
        good_stack(), {"container-ports-bound-to-address": {"allowedAddresses": ["10.25.20.19"]}}
    )
    assert {v.resource for v in narrowed} == {"minio", "milvus", "attu"}


def test_exemption_by_resource_or_container_name_needs_a_reason() -> None:
    stack = edit(good_stack(), "attu", setter("privileged", True))
    reason = {"resource": "milvus-attu", "reason": "GPU debugging session, removed after INC-42"}
    assert evaluate(stack, {"container-not-privileged": {"exemptions": [reason]}}) == []
    assert (
        evaluate(stack, {"container-not-privileged": {"exemptions": [{**reason, "resource": "attu"}]}}) == []
    )
    with pytest.raises(PolicyPackError, match=r"`container-not-privileged.exemptions\[0\]` has no `reason`"):
        evaluate(stack, {"container-not-privileged": {"exemptions": [{"resource": "attu"}]}})


def test_writable_root_and_root_user_are_declared_per_role() -> None:
    stack = edit(good_stack(), "attu", setter("user", "root"))
    assert evaluate(stack) == []  # attu is in the default rootRoles
    violations = evaluate(
        stack, {"container-non-root-user": {"rootRoles": {"etcd": "x", "minio": "x", "milvus": "x"}}}
    )
    assert {(v.policy, v.resource) for v in violations} == {
        ("container-non-root-user", "attu"),
        ("container-non-root-user", "backup"),
        ("container-non-root-user", "backup-scheduler"),
    }
    assert 'runs as user "root"' in next(v.message for v in violations if v.resource == "attu")
    # etcd can never be exempted from a read-only root.
    writable = edit(good_stack(), "etcd", setter("readOnly", False))
    roles = ("etcd", "minio", "milvus", "attu", "backup", "backup-scheduler")
    config = {"container-read-only-root": {"writableRootRoles": {role: "needs it" for role in roles}}}
    assert [v.resource for v in evaluate(writable, config)] == ["etcd"]


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


def test_headroom_is_configurable() -> None:
    stack = edit(good_stack(), "milvus-vm", lambda p: p["memory"].update(dedicated=22784), VM)
    assert evaluate(stack) == []
    violations = evaluate(stack, {"vm-memory-covers-containers": {"headroomMb": 4096}})
    assert [v.policy for v in violations] == ["vm-memory-covers-containers"]
    assert "20736 MB plus 4096 MB headroom = 24832 MB" in violations[0].message


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
    """The program's env lists are secret, and unknown while pulumi_random has not generated passwords."""
    stack = good_stack()
    stack = edit(stack, "minio", setter("envs", UNKNOWN))
    stack = edit(
        stack, "milvus", lambda p: p.update(envs=[e if "PASSWORD" not in e else UNKNOWN for e in p["envs"]])
    )
    stack = edit(stack, "milvus-vm", lambda p: p["initialization"]["userAccount"].update(keys=[UNKNOWN]), VM)
    stack = edit(stack, "milvus", setter("ports", [port(19530, 19530, UNKNOWN), port(9091, 9091, UNKNOWN)]))
    assert evaluate(stack) == []
    # A known default next to unknown secrets is still found.
    stack = edit(stack, "milvus", lambda p: p["envs"].append("MINIO_ACCESS_KEY_ID=minioadmin"))
    assert {v.policy for v in evaluate(stack)} == {"minio-credentials-not-default"}


def test_secret_values_are_judged_but_never_repeated() -> None:
    stack = edit(
        good_stack(),
        "minio",
        setter("envs", Secret(["MINIO_ROOT_USER=milvus-platform", "MINIO_ROOT_PASSWORD=Sh0rt!"])),
    )
    violations = evaluate(stack)
    assert [v.policy for v in violations] == ["minio-credentials-min-length"]
    assert "Sh0rt!" not in violations[0].message


def test_milvus_settings_from_an_uploaded_user_yaml() -> None:
    user_yaml = "common:\n  security:\n    authorizationEnabled: true\n    defaultRootPassword: Milvus\n"

    def change(props: dict[str, Any]) -> None:
        props["envs"] = [e for e in props["envs"] if "COMMON_SECURITY" not in e and "MINIO_" not in e]
        props["uploads"] = [{"file": "/milvus/configs/user.yaml", "content": user_yaml}]

    violations = evaluate(edit(good_stack(), "milvus", change))
    assert [v.policy for v in violations] == ["milvus-root-password-not-default"]
    assert 'root password to the default "Milvus"' in violations[0].message


def test_dependency_on_a_component_means_its_containers() -> None:
    component = "urn:pulumi:dev::milvus-platform::milvus:platform:Service::etcd-service"
    stack = [
        replace(r, parent=component) if r.name == "etcd" and r.type == CONTAINER else r
        for r in edit(good_stack(), "etcd", setter("wait", False))
    ]
    stack = [
        replace(r, dependencies=[component]) if r.name == "milvus" and r.type == CONTAINER else r
        for r in stack
    ]
    stack.append(PlannedResource("milvus:platform:Service", "etcd-service", component))
    config = {"container-waits-until-healthy": {"enforcementLevel": "disabled"}}
    assert [(v.policy, v.resource) for v in evaluate(stack, config)] == [
        ("dependency-healthy-before-start", "etcd")
    ]


def test_readme_documents_every_rule() -> None:
    text = README.read_text()
    for policy in POLICIES:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{policy.name}` |")), None)
        assert row is not None, f"policies/README.md has no row for {policy.name}"
        assert policy.enforcement_level is not None and policy.enforcement_level.value in row
