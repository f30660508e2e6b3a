"""policies/kubernetes_cluster_rules.py: one failing mutation per rule (for the catalog), and a table of
passing and failing cases at each rule's edges; the lab's stack passes with its policy config."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from policies import kubernetes_cluster_rules as FAMILY
from policies import kubernetes_objects as k
from policies.catalog import POLICIES, evaluate
from policies.kubernetes_objects import REFERENCES
from tests.kubernetes.lab import program
from tests.policies.kubernetes_stack import (
    ATTU,
    BACKUP,
    COMPONENTS,
    CRON_JOB,
    DELETE,
    MILVUS_CR,
    PSS_ENFORCE,
    Change,
    Resources,
    assert_no_other_rule,
    assert_readme_documents,
    assert_references_carried,
    at,
    every_component,
    init_container,
    k8s_edit,
    k8s_stack,
    milvus,
    sidecar,
    unprotect,
    with_k8s,
    workload,
)
from tests.policies.mutations import (
    Edge,
    Mutation,
    assert_edge,
    assert_trips_exactly_its_rule,
    edge_cases,
    edit,
    fails,
    passes,
    rule_of,
)
from tools.plan.run import planned_resources

MUTATIONS = [
    Mutation(
        "k8s-credentials-by-reference",
        k8s_edit(
            "milvus-backup",
            k.CRON_JOB,
            lambda p: at(
                [*BACKUP, "env"],
                [
                    *p["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"][:-1],
                    {"name": "MILVUS_PASSWORD", "value": "hunter2hunter2"},
                ],
            )(p),
        ),
        [
            (
                "milvus-backup",
                f'{CRON_JOB} container "milvus-backup" sets MILVUS_PASSWORD as a literal value, readable by anyone '
                "who can read the object; use `valueFrom.secretKeyRef`.",
            )
        ],
    ),
    Mutation(
        "k8s-no-default-credentials",
        k8s_edit(
            "milvus-milvus",
            k.MILVUS,
            at(["spec", "dependencies", "storage", "inCluster", "values", "existingSecret"], ""),
        ),
        [
            (
                "milvus-milvus",
                f"{MILVUS_CR} runs in-cluster MinIO without `existingSecret`, so the operator's chart defaults its "
                "credentials to minioadmin; create a Secret from Pulumi secrets and name it there.",
            )
        ],
    ),
    Mutation(
        "k8s-service-exposure-configured",
        k8s_edit("milvus-attu-service", k.SERVICE, at(["spec", "type"], "LoadBalancer")),
        [
            (
                "milvus-attu-service",
                'Service "milvus-attu-service" (milvus-attu) is a LoadBalancer Service, reachable from outside the '
                "cluster; make it ClusterIP or list it in allowedExposedServices.",
            )
        ],
    ),
    Mutation(
        "k8s-namespace-network-policy",
        lambda docker: (
            docker + [r for r in k8s_stack() if r.name != "milvus-network-policy-default-deny-ingress"]
        ),
        [
            (
                "milvus-milvus",
                'namespace "milvus-platform" has no NetworkPolicy selecting all pods (podSelector {}), so every pod '
                "in the cluster can reach its pods; add a default-deny policy and open only what each pod needs.",
            )
        ],
    ),
    Mutation(
        "k8s-namespace-pod-security",
        k8s_edit("milvus-namespace", k.NAMESPACE, at(PSS_ENFORCE, "privileged")),
        [
            (
                "milvus-namespace",
                'Namespace "milvus-namespace" (milvus-platform) enforces Pod Security level "privileged"; label '
                "it `pod-security.kubernetes.io/enforce: baseline` (or restricted) so the admission controller "
                "refuses unsafe pods.",
            )
        ],
    ),
    Mutation(
        "k8s-helm-chart-pinned",
        k8s_edit("milvus-operator", k.HELM_RELEASE, at(["version"], "^1.3")),
        [
            (
                "milvus-operator",
                'Release "milvus-operator" installs chart version "^1.3"; set `version` to one exact chart version.',
            )
        ],
    ),
    Mutation(
        "k8s-volume-claim-protected",
        lambda docker: docker + unprotect(k8s_stack(), k.VOLUME_CLAIM),
        [
            (
                "milvus-etcd-snapshots",
                'PersistentVolumeClaim "milvus-etcd-snapshots" is not protected, so '
                "`pulumi destroy` or a replace deletes the claim and, with a Delete reclaim policy, its volume; "
                "declare it with `ResourceOptions(protect=True, retain_on_delete=True)`.",
            )
        ],
    ),
    Mutation(
        "k8s-milvus-data-retained",
        lambda docker: docker + unprotect(k8s_stack()),
        [
            (
                "milvus-milvus",
                f"{MILVUS_CR} is not protected, so `pulumi destroy` or a rename deletes it and its data; set protect.",
            )
        ],
    ),
]


def test_the_lab_stack_passes_with_its_policy_config() -> None:
    lab = planned_resources(program().resources)
    assert {v.policy for v in evaluate(lab)} == {"k8s-service-exposure-configured"}
    assert (
        evaluate(
            lab, {"k8s-service-exposure-configured": {"allowedExposedServices": ["milvus-milvus-external"]}}
        )
        == []
    )


def test_the_kubernetes_families_reference_every_rule_once() -> None:
    from policies import kubernetes_pod_rules

    names = [p.name for family in (kubernetes_pod_rules, FAMILY) for p in family.POLICIES]
    assert sorted(names) == sorted(REFERENCES) and len(set(names)) == len(names)
    assert set(names) <= {p.name for p in POLICIES}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=rule_of)
def test_each_rule_trips_on_its_mutation(mutation: Mutation) -> None:
    assert_trips_exactly_its_rule(mutation)


def test_every_rule_has_a_mutation_and_a_reference_entry() -> None:
    assert {m.rule for m in MUTATIONS} == {p.name for p in FAMILY.POLICIES}
    assert_references_carried(FAMILY)


def test_the_readme_documents_every_rule_as_it_is() -> None:
    assert_readme_documents(FAMILY)


# --------------------------------------------------------------------------------------------------
# Edges: each rule's table of cases, the good stack changed just inside and just outside what it accepts
# --------------------------------------------------------------------------------------------------

DEFAULT_DENY = "milvus-network-policy-default-deny-ingress"


MINIO_SECRET_LITERAL = {"name": "MINIO_SECRET_KEY", "value": "s3cretpass"}
MINIO_SECRET_BY_REFERENCE = {
    "name": "MINIO_SECRET_KEY",
    "valueFrom": {"secretKeyRef": {"name": "milvus-minio", "key": "secretkey"}},
}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


DEPENDENCIES = ["dependencies"]
Edit = Callable[[Resources], Resources]


def second_claim(protect: bool) -> Edit:
    """The program's stack plus a second PersistentVolumeClaim (a copy of the snapshots' claim)."""
    claim = next(r for r in k8s_stack() if r.type == k.VOLUME_CLAIM)
    team = replace(
        claim,
        name="team-scratch",
        urn="urn:pulumi:k8s::milvus-platform::kubernetes:core/v1:PersistentVolumeClaim::team-scratch",
        options={"protect": protect},
    )
    return lambda docker: docker + k8s_stack() + [team]


def k8s(*edits: Edit) -> Edit:
    """The Docker good stack plus the Kubernetes one changed by `edits` (each maps the Kubernetes resources)."""

    def mutate(docker: Resources) -> Resources:
        resources = k8s_stack()
        for one in edits:
            resources = one(resources)
        return docker + resources

    return mutate


def changed(name: str, kind: str, change: Change) -> Edit:
    return lambda rs: edit(rs, name, change, kind)


def copied(name: str, kind: str, new_name: str, change: Change) -> Edit:
    """Resource `name` and a copy of it named `new_name`, changed by `change`."""

    def add(resources: Resources) -> Resources:
        original = next(r for r in resources if r.name == name and r.type == kind)
        props = copy.deepcopy(dict(original.properties))
        change(props)
        twin = replace(original, name=new_name, urn=original.urn.replace(name, new_name), properties=props)
        return [*resources, twin]

    return add


def milvus_spec(*steps: Change) -> Edit:
    """The Docker good stack plus the Kubernetes one, the Milvus resource's `spec` changed by `steps`."""

    def change(props: dict[str, Any]) -> None:
        for step in steps:
            step(props["spec"])

    return k8s_edit("milvus-milvus", k.MILVUS, change)


EDGES: dict[str, list[Edge]] = {
    "k8s-namespace-pod-security": [
        *(
            Edge(f"enforce {level}", k8s_edit("milvus-namespace", k.NAMESPACE, at(PSS_ENFORCE, level)), fires)
            for level, fires in (
                ("restricted", False),
                ("baseline", False),
                ("privileged", True),
                ("Baseline", True),
            )
        ),
        fails(
            "no enforce label (the cluster default, privileged)",
            k8s_edit("milvus-operator-namespace", k.NAMESPACE, at(PSS_ENFORCE, DELETE)),
        ),
        fails(
            "only warn and audit at restricted",
            k8s_edit(
                "milvus-namespace",
                k.NAMESPACE,
                lambda p: p["metadata"]["labels"].pop("pod-security.kubernetes.io/enforce"),
            ),
        ),
        fails(
            "no labels at all", k8s_edit("milvus-namespace", k.NAMESPACE, at(["metadata", "labels"], DELETE))
        ),
        fails("an empty enforce level", k8s_edit("milvus-namespace", k.NAMESPACE, at(PSS_ENFORCE, ""))),
    ],
    "k8s-helm-chart-pinned": [
        *(
            Edge(
                f"version {version!r}",
                k8s_edit("milvus-operator", k.HELM_RELEASE, at(["version"], version)),
                fires,
            )
            for version, fires in (
                ("1.3.8", False),
                ("1.3.9-rc.1", False),
                ("^1.3", True),
                ("~1.3.8", True),
                (">=1.3.0", True),
                ("1.3.x", True),
                ("*", True),
                ("", True),
                (" 1.3.8", True),
                ("1.3", True),
                ("1", True),
                ("v1.3.8", False),
                ("1.3.8-fix.1", False),
            )
        ),
        fails(
            "no version (the newest)", k8s_edit("milvus-operator", k.HELM_RELEASE, at(["version"], DELETE))
        ),
        fails(
            "a plain-http repository",
            k8s_edit(
                "milvus-operator", k.HELM_RELEASE, at(["repositoryOpts", "repo"], "http://charts.example/")
            ),
        ),
        passes(
            "an https repository with a path",
            k8s_edit(
                "milvus-operator",
                k.HELM_RELEASE,
                at(["repositoryOpts", "repo"], "https://charts.example/sub/"),
            ),
        ),
    ],
    "k8s-credentials-by-reference": [
        fails(
            "a root password in spec.config",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                at(["spec", "config", "common", "security", "defaultRootPassword"], "s3cretpass"),
            ),
        ),
        fails(
            "MinIO keys in chart values",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                at(["spec", "dependencies", "storage", "inCluster", "values", "secretKey"], "s3cretpass"),
            ),
        ),
        fails(
            "MinIO's secret key in spec.config",
            milvus_spec(at(["config", "minio", "secretAccessKey"], "s3cretpass")),
        ),
        fails(
            "MinIO's root password in the chart values",
            milvus_spec(at(["dependencies", "storage", "inCluster", "values", "rootPassword"], "s3cretpass")),
        ),
        fails(
            "a literal root password in the Milvus components' env",
            milvus(at(["env", 0], {"name": "COMMON_SECURITY_DEFAULTROOTPASSWORD", "value": "s3cretpass"})),
        ),
        fails(
            "a literal password in the global env, every component adding its own",
            milvus(
                lambda components: components["env"].append(MINIO_SECRET_LITERAL),
                every_component(lambda name: at([name, "env"], [{"name": "LOG_LEVEL", "value": "info"}])),
            ),
        ),
        fails(
            "a literal token in a Milvus sidecar's env",
            milvus(sidecar("proxy", at(["env"], [{"name": "SHIPPER_TOKEN", "value": "abc123"}]))),
        ),
        fails(
            "a token in an init container's env",
            workload(
                k.DEPLOYMENT, init_container(at(["env"], [{"name": "ATTU_API_TOKEN", "value": "abc123"}]))
            ),
        ),
        fails(
            "a lower-case name",
            k8s_edit(
                "milvus-backup",
                k.CRON_JOB,
                at([*BACKUP, "env", 0], {"name": "minio_secret_key", "value": "x"}),
            ),
        ),
        passes(
            "a literal non-secret env",
            k8s_edit(
                "milvus-attu", k.DEPLOYMENT, at([*ATTU, "env", 0], {"name": "MILVUS_URL", "value": "x:19530"})
            ),
        ),
        passes(
            "a literal password in the global env every component replaces by reference",
            milvus(
                lambda components: components["env"].append(MINIO_SECRET_LITERAL),
                every_component(lambda name: at([name, "env"], [MINIO_SECRET_BY_REFERENCE])),
            ),
        ),
        passes("by secretKeyRef as declared", with_k8s),
        passes(
            "the path of a mounted secret file (*_FILE)",
            workload(
                k.DEPLOYMENT,
                init_container(
                    at(["env"], [{"name": "MINIO_ROOT_PASSWORD_FILE", "value": "/run/secrets/minio"}])
                ),
            ),
        ),
        passes(
            "an empty literal",
            k8s_edit(
                "milvus-backup",
                k.CRON_JOB,
                at([*BACKUP, "env", -1], {"name": "MILVUS_PASSWORD", "value": ""}),
            ),
        ),
    ],
    "k8s-no-default-credentials": [
        fails(
            "auth off",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                at(["spec", "config", "common", "security", "authorizationEnabled"], False),
            ),
        ),
        fails(
            "a Secret holding minioadmin",
            k8s_edit(
                "milvus-storage-secret",
                k.SECRET,
                at(["stringData"], {"accesskey": "milvus-platform", "secretkey": "minioadmin"}),
            ),
        ),
        fails(
            "auth unset (the operator's default is off)",
            milvus_spec(at(["config", "common", "security", "authorizationEnabled"], DELETE)),
        ),
        fails(
            'auth "false" as a string',
            milvus_spec(at(["config", "common", "security", "authorizationEnabled"], "false")),
        ),
        fails(
            "in-cluster MinIO without existingSecret",
            milvus_spec(at(["dependencies", "storage", "inCluster", "values", "existingSecret"], DELETE)),
        ),
        fails(
            "a Secret holding the root password Milvus",
            k8s_edit(
                "milvus-root-secret", k.SECRET, at(["stringData"], {"username": "root", "password": "Milvus"})
            ),
        ),
        fails(
            "minioadmin base64-encoded in a Secret's data",
            k8s_edit(
                "milvus-storage-secret",
                k.SECRET,
                lambda p: p.update(
                    stringData={"accesskey": "milvus-platform"}, data={"secretkey": b64("minioadmin")}
                ),
            ),
        ),
        passes(
            "external storage needs no existingSecret",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                lambda p: p["spec"]["dependencies"]["storage"].update(external=True, inCluster={}),
            ),
        ),
        passes(
            "a default in data that stringData replaces (the API server writes stringData over data)",
            k8s_edit(
                "milvus-storage-secret",
                k.SECRET,
                lambda p: p.update(
                    stringData={"accesskey": "milvus-platform", "secretkey": "a-generated-secret"},
                    data={"secretkey": b64("minioadmin")},
                ),
            ),
        ),
        passes(
            'auth "true" as a string',
            milvus_spec(at(["config", "common", "security", "authorizationEnabled"], "true")),
        ),
        passes(
            "Milvus as a user name, not a password",
            k8s_edit(
                "milvus-root-secret",
                k.SECRET,
                at(["stringData"], {"username": "Milvus", "password": "a-generated-password"}),
            ),
        ),
        passes("generated Secrets and auth on as declared", with_k8s),
    ],
    "k8s-service-exposure-configured": [
        fails(
            "NodePort on the Milvus proxy",
            k8s_edit("milvus-milvus", k.MILVUS, at([*COMPONENTS, "proxy", "serviceType"], "NodePort")),
        ),
        fails(
            "a NodePort Service", k8s_edit("milvus-attu-service", k.SERVICE, at(["spec", "type"], "NodePort"))
        ),
        fails(
            "a LoadBalancer when another name is allowed",
            k8s_edit("milvus-attu-service", k.SERVICE, at(["spec", "type"], "LoadBalancer")),
            allowedExposedServices=["milvus-milvus"],
        ),
        passes("ClusterIP", k8s_edit("milvus-attu-service", k.SERVICE, at(["spec", "type"], "ClusterIP"))),
        passes(
            "a NodePort Service allowed by its Pulumi name",
            k8s_edit("milvus-attu-service", k.SERVICE, at(["spec", "type"], "NodePort")),
            allowedExposedServices=["milvus-attu-service"],
        ),
        passes(
            "a LoadBalancer allowed by its object name",
            k8s_edit("milvus-attu-service", k.SERVICE, at(["spec", "type"], "LoadBalancer")),
            allowedExposedServices=["milvus-attu"],
        ),
        passes(
            "the Milvus proxy's LoadBalancer with the resource allowed",
            milvus(at(["proxy", "serviceType"], "LoadBalancer")),
            allowedExposedServices=["milvus-milvus"],
        ),
    ],
    "k8s-namespace-network-policy": [
        fails(
            "a policy selecting only some pods is not enough",
            lambda d: (
                d
                + [
                    r
                    for r in k8s_stack()
                    if (r.name != "milvus-network-policy-default-deny-ingress" and r.type != k.NETWORK_POLICY)
                    or r.name == "milvus-network-policy-etcd"
                ]
            ),
        ),
        fails(
            "a workload in a namespace without a policy",
            k8s(changed("milvus-backup", k.CRON_JOB, at(["metadata", "namespace"], "jobs"))),
        ),
        fails(
            "the default deny in another namespace",
            k8s(changed(DEFAULT_DENY, k.NETWORK_POLICY, at(["metadata", "namespace"], "other"))),
        ),
        fails(
            "a podSelector with matchExpressions",
            k8s(
                changed(
                    DEFAULT_DENY,
                    k.NETWORK_POLICY,
                    at(["spec", "podSelector"], {"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
                )
            ),
        ),
        passes("a default deny as declared", with_k8s),
        passes(
            "a podSelector with empty matchLabels",
            k8s(changed(DEFAULT_DENY, k.NETWORK_POLICY, at(["spec", "podSelector"], {"matchLabels": {}}))),
        ),
        passes(
            "the backup job in its own namespace, with its own default deny",
            k8s(
                changed("milvus-backup", k.CRON_JOB, at(["metadata", "namespace"], "jobs")),
                copied(
                    DEFAULT_DENY,
                    k.NETWORK_POLICY,
                    f"{DEFAULT_DENY}-jobs",
                    at(["metadata", "namespace"], "jobs"),
                ),
            ),
        ),
    ],
    "k8s-volume-claim-protected": [
        fails(
            "the snapshot claim unprotected", lambda docker: docker + unprotect(k8s_stack(), k.VOLUME_CLAIM)
        ),
        fails("a second claim without protect", second_claim(protect=False)),
        passes("as the program declares it (protectData on)", lambda docker: docker + k8s_stack()),
        passes("a second claim, protected", second_claim(protect=True)),
        passes(
            "no claim at all", lambda docker: docker + [r for r in k8s_stack() if r.type != k.VOLUME_CLAIM]
        ),
    ],
    "k8s-milvus-data-retained": [
        fails(
            "pvcDeletion on for the queue",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                at(["spec", "dependencies", "pulsar", "inCluster", "pvcDeletion"], True),
            ),
        ),
        fails(
            "etcd's release deleted with it",
            milvus_spec(at([*DEPENDENCIES, "etcd", "inCluster", "deletionPolicy"], "Delete")),
        ),
        fails(
            "MinIO's volumes deleted with it",
            milvus_spec(at([*DEPENDENCIES, "storage", "inCluster", "pvcDeletion"], True)),
        ),
        fails(
            "Kafka's release deleted with it when Milvus uses Kafka",
            milvus_spec(
                at([*DEPENDENCIES, "msgStreamType"], "kafka"),
                at([*DEPENDENCIES, "kafka"], {"inCluster": {"deletionPolicy": "Delete"}}),
            ),
        ),
        fails(
            "Pulsar's release deleted with it, msgStreamType unset (cluster mode's default is Pulsar)",
            milvus_spec(
                at([*DEPENDENCIES, "msgStreamType"], DELETE),
                at([*DEPENDENCIES, "pulsar", "inCluster", "deletionPolicy"], "Delete"),
            ),
        ),
        passes(
            "the unused queue's policy does not matter",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                lambda p: p["spec"]["dependencies"].update(kafka={"inCluster": {"deletionPolicy": "Delete"}}),
            ),
        ),
        passes("retained as declared", with_k8s),
        passes(
            "Kafka's release deleted with it, msgStreamType unset (cluster mode runs Pulsar)",
            milvus_spec(
                at([*DEPENDENCIES, "msgStreamType"], DELETE),
                at([*DEPENDENCIES, "kafka"], {"inCluster": {"deletionPolicy": "Delete"}}),
            ),
        ),
        passes(
            "deletionPolicy and pvcDeletion unset (the operator retains)",
            milvus_spec(
                *(
                    at([*DEPENDENCIES, name, "inCluster", key], DELETE)
                    for name in ("etcd", "storage", "pulsar")
                    for key in ("deletionPolicy", "pvcDeletion")
                )
            ),
        ),
        passes(
            "an external etcd",
            milvus_spec(
                at([*DEPENDENCIES, "etcd"], {"external": True, "inCluster": {"deletionPolicy": "Delete"}})
            ),
        ),
    ],
}


@pytest.mark.parametrize(("rule", "edge"), edge_cases(EDGES))
def test_edge(rule: str, edge: Edge) -> None:
    assert_edge(rule, edge)
    assert_no_other_rule(rule, edge)
