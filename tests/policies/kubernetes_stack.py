"""The known-good Kubernetes stack, and the helpers the Kubernetes rule families' tests break it with.

The known-good Kubernetes stack is the program's own `k8s` stack with a ClusterIP Milvus Service, taken
from the program under mocks, so the fixture cannot drift from what is deployed. The tests add it to the
Docker good stack (tests/policies/good_stack.py): together they pass every rule of the pack.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi_policy import Policy, StackValidationPolicy

from policies import kubernetes_objects as k
from policies.analyzer_client import PlannedResource
from policies.catalog import evaluate
from policies.kubernetes_objects import REFERENCES
from tests.kubernetes.lab import VARIANTS, program
from tests.policies.good_stack import good_stack
from tests.policies.mutations import Edge, edit
from tools.plan.run import planned_resources

Resources = list[PlannedResource]


@cache
def _k8s_stack() -> tuple[PlannedResource, ...]:
    return tuple(planned_resources(program(**VARIANTS["cluster-ip"]).resources))


def k8s_stack() -> Resources:
    return copy.deepcopy(list(_k8s_stack()))


def k8s_edit(
    name: str, kind: str, change: Callable[[dict[str, Any]], None]
) -> Callable[[Resources], Resources]:
    """The Docker good stack plus the Kubernetes one, with resource `name` of `kind` changed."""
    return lambda docker: docker + edit(k8s_stack(), name, change, kind)


def at(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        node: Any = props
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


DELETE = object()
PSS_ENFORCE = ["metadata", "labels", "pod-security.kubernetes.io/enforce"]
ATTU_POD = ["spec", "template", "spec"]
ATTU = [*ATTU_POD, "containers", 0]
BACKUP = ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0]
COMPONENTS = ["spec", "components"]
DEPLOYMENT = 'Deployment "milvus-attu"'
CRON_JOB = 'CronJob "milvus-backup"'
MILVUS_CR = 'Milvus "milvus-milvus" (milvus)'


Change = Callable[[dict[str, Any]], None]


def with_k8s(docker: Resources) -> Resources:
    """The Docker good stack plus the Kubernetes one, unchanged."""
    return docker + k8s_stack()


def workload(kind: str, *steps: Change, source: str = "milvus-attu") -> Callable[[Resources], Resources]:
    """The Docker good stack plus the Kubernetes one, with `source` (Attu's Deployment, or milvus-backup for
    the backup CronJob) declared as a `kind` with the same metadata and pod spec, the pod spec changed by
    `steps` (their paths start at the pod spec: POD_SC, C, SC)."""

    def mutate(docker: Resources) -> Resources:
        result = []
        for r in k8s_stack():
            if r.name == source and r.type in k.POD_SPEC_PATHS:
                props = copy.deepcopy(dict(r.properties))
                pod = k.value_at(props, k.POD_SPEC_PATHS[r.type])
                for step in steps:
                    step(pod)
                declared: dict[str, Any] = {"metadata": props["metadata"]}
                node = declared
                for key in k.POD_SPEC_PATHS[kind][:-1]:
                    node = node.setdefault(key, {})
                node[k.POD_SPEC_PATHS[kind][-1]] = pod
                r = replace(r, type=kind, properties=declared)
            result.append(r)
        return docker + result

    return mutate


def init_container(*steps: Change) -> Change:
    """A pod spec change: an init container, a copy of the pod's first container named "init", changed by
    `steps` (their paths start at the container: OWN_SC)."""

    def change(pod: dict[str, Any]) -> None:
        init = copy.deepcopy(pod["containers"][0])
        init["name"] = "init"
        for step in steps:
            step(init)
        pod["initContainers"] = [init]

    return change


def milvus(*steps: Change) -> Callable[[Resources], Resources]:
    """The Docker good stack plus the Kubernetes one, with the Milvus resource's `spec.components` changed by
    `steps` (their paths start at spec.components)."""

    def change(props: dict[str, Any]) -> None:
        for step in steps:
            step(props["spec"]["components"])

    return k8s_edit("milvus-milvus", k.MILVUS, change)


def every_component(change: Callable[[str], Change]) -> Change:
    """spec.components: `change(name)` applied to every component the cluster-mode resource lists."""

    def apply(components: dict[str, Any]) -> None:
        for name in ("proxy", "queryNode", "dataNode", "indexNode", "mixCoord"):
            change(name)(components)

    return apply


# A container that passes every rule: what a Milvus component's sidecar or init container may look like.
SIDECAR: dict[str, Any] = {
    "name": "log-shipper",
    "image": "fluent/fluent-bit:3.1.9",
    "resources": {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "100m", "memory": "128Mi"},
    },
    "securityContext": {
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "readOnlyRootFilesystem": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def sidecar(component: str, *steps: Change, key: str = "sidecars") -> Change:
    """spec.components: `component` lists a copy of SIDECAR under `key` (sidecars or initContainers), changed
    by `steps` (their paths start at the container: OWN_SC)."""

    def change(components: dict[str, Any]) -> None:
        container = copy.deepcopy(SIDECAR)
        for step in steps:
            step(container)
        components[component].setdefault(key, []).append(container)

    return change


# Paths from a pod spec (workload steps), from a container (init_container steps), from spec.components.
POD_SC = ["securityContext"]
C = ["containers", 0]
SC = [*C, "securityContext"]
OWN_SC = ["securityContext"]


def unprotect(resources: Resources, kind: str = k.MILVUS) -> Resources:
    return [replace(r, options={**r.options, "protect": False}) if r.type == kind else r for r in resources]


def assert_no_other_rule(rule: str, edge: Edge) -> None:
    """A case at one rule's edge changes nothing any other rule of the pack judges."""
    config = {rule: edge.config} if edge.config else None
    others = {v.policy for v in evaluate(edge.mutate(good_stack()), config)} - {rule}
    assert not others, f"{rule}[{edge.name}]: other rules fired too: {others}"


def assert_references_carried(family: ModuleType) -> None:
    """Each rule of `family` has a REFERENCES entry and carries it: the CIS Kubernetes id as its framework
    reference and description prefix, the Pod Security Standard level as a tag and in its description."""
    assert {p.name for p in family.POLICIES} <= set(REFERENCES)
    for policy in family.POLICIES:
        cis, pss = REFERENCES[policy.name]
        assert policy.tags is not None
        if cis is not None:
            assert policy.framework is not None and policy.framework.name == "CIS Kubernetes Benchmark"
            assert policy.framework.reference == cis and policy.description.startswith(
                f"CIS Kubernetes {cis}"
            )
        if pss is not None:
            assert f"pss-{pss}" in policy.tags and f"PSS {pss}" in policy.description


README = Path(__file__).resolve().parents[2] / "policies" / "README.md"


def readme_row(policy: Policy, family: str) -> str:
    """The row policies/README.md's Kubernetes table must have for `policy`, from its own metadata."""
    cis, pss = REFERENCES[policy.name]
    assert policy.enforcement_level is not None and policy.config_schema is not None
    kind = "stack" if isinstance(policy, StackValidationPolicy) else "resource"
    keys = [key for key in policy.config_schema.properties if key != "exemptions"] + ["exemptions"]
    config = "; ".join(f"`{key}`" for key in keys)
    return (
        f"| `{policy.name}` | {cis or '-'} | {pss or '-'} | {policy.enforcement_level.value} | {kind} | "
        f"{family} | {policy.description} | {config} |"
    )


def assert_readme_documents(family: ModuleType) -> None:
    rows = README.read_text().splitlines()
    name = family.__name__.rsplit(".", 1)[-1]
    for policy in family.POLICIES:
        row = next((line for line in rows if line.startswith(f"| `{policy.name}` |")), None)
        assert row == readme_row(policy, name)
