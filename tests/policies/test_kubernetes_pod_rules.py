"""policies/kubernetes_pod_rules.py: the Kubernetes stack the program declares passes; one failing mutation
per rule (for the catalog), and a table of passing and failing cases at each rule's edges."""

from __future__ import annotations

from typing import Any

import pytest

from policies import kubernetes_objects as k
from policies import kubernetes_pod_rules as FAMILY
from policies.catalog import POLICIES, evaluate
from tests.policies.good_stack import good_stack
from tests.policies.kubernetes_stack import (
    ATTU,
    ATTU_POD,
    BACKUP,
    COMPONENTS,
    CRON_JOB,
    DELETE,
    DEPLOYMENT,
    MILVUS_CR,
    OWN_SC,
    POD_SC,
    SC,
    C,
    Change,
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
    with_k8s,
    workload,
)
from tests.policies.mutations import (
    Edge,
    Mutation,
    assert_edge,
    assert_trips_exactly_its_rule,
    edge_cases,
    fails,
    passes,
    rule_of,
)

MUTATIONS = [
    Mutation(
        "k8s-resources-limited",
        k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "resources", "limits"], DELETE)),
        [
            (
                "milvus-attu",
                f'{DEPLOYMENT} container "attu" has no limits.cpu, limits.memory; set requests and '
                "limits so the scheduler reserves what it uses and one pod cannot starve a node.",
            )
        ],
    ),
    Mutation(
        "k8s-not-privileged",
        k8s_edit("milvus-backup", k.CRON_JOB, at([*BACKUP, "securityContext", "privileged"], True)),
        [
            (
                "milvus-backup",
                f'{CRON_JOB} container "milvus-backup" runs privileged; remove `securityContext.privileged`.',
            )
        ],
    ),
    Mutation(
        "k8s-no-host-namespaces",
        k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU_POD, "hostPID"], True)),
        [("milvus-attu", f"{DEPLOYMENT} sets hostPID; pods must keep their own namespaces.")],
    ),
    Mutation(
        "k8s-no-host-path",
        k8s_edit(
            "milvus-attu",
            k.DEPLOYMENT,
            at([*ATTU_POD, "volumes", 0], {"name": "tmp", "hostPath": {"path": "/var/run"}}),
        ),
        [
            (
                "milvus-attu",
                f"{DEPLOYMENT} mounts the host's /var/run (volume tmp); use a PersistentVolumeClaim or "
                "an emptyDir.",
            )
        ],
    ),
    Mutation(
        "k8s-no-privilege-escalation",
        k8s_edit(
            "milvus-milvus", k.MILVUS, at([*COMPONENTS, "securityContext", "allowPrivilegeEscalation"], True)
        ),
        [
            (
                "milvus-milvus",
                f'{MILVUS_CR} component "{name}" does not set `securityContext.allowPrivilegeEscalation: false`, so '
                "setuid binaries can gain privileges.",
            )
            for name in ("proxy", "queryNode", "dataNode", "indexNode", "mixCoord")
        ],
    ),
    Mutation(
        "k8s-capabilities-dropped",
        k8s_edit(
            "milvus-backup",
            k.CRON_JOB,
            at([*BACKUP, "securityContext", "capabilities"], {"add": ["NET_ADMIN"]}),
        ),
        [
            (
                "milvus-backup",
                f'{CRON_JOB} container "milvus-backup" does not drop ALL capabilities; set `capabilities.drop: [ALL]`.',
            ),
            (
                "milvus-backup",
                f'{CRON_JOB} container "milvus-backup" adds capabilities NET_ADMIN; remove `capabilities.add`.',
            ),
        ],
    ),
    Mutation(
        "k8s-seccomp-runtime-default",
        k8s_edit(
            "milvus-attu",
            k.DEPLOYMENT,
            at([*ATTU, "securityContext", "seccompProfile"], {"type": "Unconfined"}),
        ),
        [
            (
                "milvus-attu",
                f'{DEPLOYMENT} container "attu" has no seccomp profile; set `seccompProfile.type: '
                "RuntimeDefault`.",
            )
        ],
    ),
    Mutation(
        "k8s-service-account-token-not-mounted",
        k8s_edit("milvus-backup", k.CRON_JOB, at([*BACKUP[:-2], "automountServiceAccountToken"], DELETE)),
        [
            (
                "milvus-backup",
                f"{CRON_JOB} mounts a service account token; set `automountServiceAccountToken: false`.",
            )
        ],
    ),
    Mutation(
        "k8s-read-only-root",
        k8s_edit(
            "milvus-backup", k.CRON_JOB, at([*BACKUP, "securityContext", "readOnlyRootFilesystem"], False)
        ),
        [
            (
                "milvus-backup",
                f'{CRON_JOB} container "milvus-backup" has a writable root filesystem; set `readOnlyRootFilesystem: '
                "true` with an emptyDir for scratch space, or list its role in writableRootRoles with the reason.",
            )
        ],
    ),
    Mutation(
        "k8s-non-root",
        k8s_edit("milvus-milvus", k.MILVUS, at([*COMPONENTS, "runAsNonRoot"], False)),
        [("milvus-milvus", f"{MILVUS_CR} runs Milvus as root; set `spec.components.runAsNonRoot: true`.")],
    ),
    Mutation(
        "k8s-image-pinned",
        k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "image"], "zilliz/attu:latest")),
        [
            (
                "milvus-attu",
                f'{DEPLOYMENT} container "attu" uses the unpinned image zilliz/attu:latest; pin a '
                "version tag or digest.",
            )
        ],
    ),
]


def test_the_programs_kubernetes_stack_passes_every_rule() -> None:
    assert evaluate(good_stack() + k8s_stack()) == []


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


def global_sc(**changes: Any) -> Change:
    """spec.components: the global securityContext with `changes` (None removes a key)."""

    def change(components: dict[str, Any]) -> None:
        context = {**components["securityContext"], **changes}
        components["securityContext"] = {key: v for key, v in context.items() if v is not None}

    return change


def own_sc(component: str, **changes: Any) -> Change:
    """spec.components: `component` gets its own securityContext, the global one with `changes` (None removes
    a key); the operator uses it instead of the global one."""

    def change(components: dict[str, Any]) -> None:
        context = {**components["securityContext"], **changes}
        components[component]["securityContext"] = {key: v for key, v in context.items() if v is not None}

    return change


def resources(cpu: Any, memory: Any) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}


KINDS = {
    k.STATEFUL_SET: "StatefulSet",
    k.DAEMON_SET: "DaemonSet",
    k.REPLICA_SET: "ReplicaSet",
    k.JOB: "Job",
    k.CRON_JOB: "CronJob",
    k.POD: "Pod",
}
WRITABLE = {"attu": "its start script rewrites env-config.js", "milvus": "Milvus writes below /milvus"}
DIGEST = "@sha256:" + "a" * 64
LOCAL_STORAGE = {"name": "local-storage", "emptyDir": {}}


def move_proxy_resources_to_global(props: dict[str, Any]) -> None:
    """The proxy's own resources become the Milvus resource's global ones, which every component inherits."""
    components = props["spec"]["components"]
    components["resources"] = components["proxy"].pop("resources")


EDGES: dict[str, list[Edge]] = {
    "k8s-resources-limited": [
        fails(
            "requests only on cpu",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "resources", "requests", "memory"], DELETE)),
        ),
        fails(
            "a component without resources and no global ones",
            k8s_edit("milvus-milvus", k.MILVUS, at([*COMPONENTS, "dataNode", "resources"], DELETE)),
        ),
        fails(
            "no limits on a StatefulSet", workload(k.STATEFUL_SET, at([*C, "resources", "limits"], DELETE))
        ),
        fails("an empty resources block on a Pod", workload(k.POD, at([*C, "resources"], {}))),
        fails(
            "no memory limit on the backup CronJob",
            k8s_edit("milvus-backup", k.CRON_JOB, at([*BACKUP, "resources", "limits", "memory"], DELETE)),
        ),
        fails(
            "an init container without resources",
            workload(k.DEPLOYMENT, init_container(at(["resources"], DELETE))),
        ),
        fails(
            "a memory limit of 0 (no limit at all)",
            workload(k.DEPLOYMENT, at([*C, "resources", "limits", "memory"], "0")),
        ),
        fails(
            "a CPU request of 0m (reserves nothing)",
            workload(k.STATEFUL_SET, at([*C, "resources", "requests", "cpu"], "0m")),
        ),
        fails(
            "a component's CPU limit of 0 as a number",
            milvus(at(["queryNode", "resources", "limits", "cpu"], 0)),
        ),
        fails(
            "a Milvus component's init container without resources",
            milvus(sidecar("dataNode", at(["resources"], DELETE), key="initContainers")),
        ),
        passes(
            "a component without its own resources inherits the global ones",
            k8s_edit("milvus-milvus", k.MILVUS, move_proxy_resources_to_global),
        ),
        passes(
            "incomplete global resources every component replaces with its own",
            milvus(at(["resources"], {"requests": {"cpu": "1"}})),
        ),
        passes("all four as declared, init container too", workload(k.DEPLOYMENT, init_container())),
        passes(
            "half a core and 0.5Gi", workload(k.DEPLOYMENT, at([*C, "resources"], resources("0.5", "0.5Gi")))
        ),
        passes("whole numbers", workload(k.DEPLOYMENT, at([*C, "resources"], resources(1, 536870912)))),
        passes(
            "the smallest amounts (1m, 1 byte)",
            workload(k.DEPLOYMENT, at([*C, "resources"], resources("1m", "1"))),
        ),
    ],
    "k8s-not-privileged": [
        *(
            fails(f"privileged in a {name}", workload(kind, at([*SC, "privileged"], True)))
            for kind, name in KINDS.items()
        ),
        fails(
            "privileged in an init container",
            workload(k.DEPLOYMENT, init_container(at([*OWN_SC, "privileged"], True))),
        ),
        fails("every Milvus component privileged", milvus(global_sc(privileged=True))),
        fails("one Milvus component privileged", milvus(own_sc("queryNode", privileged=True))),
        fails(
            "a privileged sidecar of one Milvus component",
            milvus(sidecar("proxy", at([*OWN_SC, "privileged"], True))),
        ),
        passes(
            "privileged false",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "securityContext", "privileged"], False)),
        ),
        passes("privileged unset", workload(k.DEPLOYMENT, at([*SC, "privileged"], DELETE))),
        passes(
            "a privileged global securityContext that every component replaces",
            milvus(global_sc(privileged=True), every_component(lambda name: own_sc(name, privileged=False))),
        ),
        passes(
            "a Milvus component's sidecar and init container as they should be",
            milvus(sidecar("proxy"), sidecar("proxy", key="initContainers")),
        ),
    ],
    "k8s-no-host-namespaces": [
        fails("hostPID on a Deployment", workload(k.DEPLOYMENT, at(["hostPID"], True))),
        fails("hostIPC on a DaemonSet", workload(k.DAEMON_SET, at(["hostIPC"], True))),
        fails("hostNetwork on a Job", workload(k.JOB, at(["hostNetwork"], True))),
        fails(
            "a Milvus component on the host network",
            k8s_edit("milvus-milvus", k.MILVUS, at([*COMPONENTS, "queryNode", "hostNetwork"], True)),
        ),
        fails("every Milvus component on the host network", milvus(at(["hostNetwork"], True))),
        fails(
            "the global host network with every component's false (the operator keeps it on)",
            milvus(at(["hostNetwork"], True), every_component(lambda name: at([name, "hostNetwork"], False))),
        ),
        passes(
            "hostNetwork false",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU_POD, "hostNetwork"], False)),
        ),
        passes(
            "hostPID, hostIPC and hostNetwork false on a Pod",
            workload(k.POD, at(["hostPID"], False), at(["hostIPC"], False), at(["hostNetwork"], False)),
        ),
        passes(
            "a process namespace shared within the pod, not with the host",
            workload(k.DEPLOYMENT, at(["shareProcessNamespace"], True)),
        ),
    ],
    "k8s-no-host-path": [
        fails(
            "a hostPath volume for Milvus",
            k8s_edit(
                "milvus-milvus",
                k.MILVUS,
                at([*COMPONENTS, "volumes", 0], {"name": "x", "hostPath": {"path": "/"}}),
            ),
        ),
        fails(
            "a hostPath socket on a StatefulSet",
            workload(
                k.STATEFUL_SET,
                at(
                    ["volumes", 0],
                    {"name": "tmp", "hostPath": {"path": "/run/containerd.sock", "type": "Socket"}},
                ),
            ),
        ),
        fails(
            "a hostPath mounted read-only by the backup CronJob",
            workload(
                k.CRON_JOB,
                at(["volumes", 2], {"name": "tmp", "hostPath": {"path": "/tmp"}}),
                at([*C, "volumeMounts", 2, "readOnly"], True),
                source="milvus-backup",
            ),
        ),
        fails(
            "a hostPath in one component's own volumes",
            milvus(
                at(["queryNode", "volumes"], [LOCAL_STORAGE, {"name": "x", "hostPath": {"path": "/var/lib"}}])
            ),
        ),
        passes(
            "a global hostPath every component replaces with its own volumes",
            milvus(
                at(["volumes"], [{"name": "local-storage", "hostPath": {"path": "/"}}]),
                every_component(lambda name: at([name, "volumes"], [LOCAL_STORAGE])),
            ),
        ),
        passes(
            "an emptyDir",
            k8s_edit(
                "milvus-attu", k.DEPLOYMENT, at([*ATTU_POD, "volumes", 0], {"name": "tmp", "emptyDir": {}})
            ),
        ),
        passes("ConfigMap and emptyDir volumes as declared", with_k8s),
        passes(
            "a PersistentVolumeClaim on a StatefulSet",
            workload(
                k.STATEFUL_SET,
                at(["volumes", 0], {"name": "tmp", "persistentVolumeClaim": {"claimName": "t"}}),
            ),
        ),
    ],
    "k8s-no-privilege-escalation": [
        fails(
            "unset is escalation allowed",
            k8s_edit(
                "milvus-attu",
                k.DEPLOYMENT,
                at([*ATTU, "securityContext", "allowPrivilegeEscalation"], DELETE),
            ),
        ),
        fails("true on a Job", workload(k.JOB, at([*SC, "allowPrivilegeEscalation"], True))),
        fails(
            "unset in an init container",
            workload(k.DEPLOYMENT, init_container(at([*OWN_SC, "allowPrivilegeEscalation"], DELETE))),
        ),
        fails(
            "a component's own securityContext without it",
            milvus(own_sc("dataNode", allowPrivilegeEscalation=None)),
        ),
        fails(
            "a Milvus component's init container that allows it",
            milvus(
                sidecar("queryNode", at([*OWN_SC, "allowPrivilegeEscalation"], True), key="initContainers")
            ),
        ),
        passes("false on the container and the init container", workload(k.DEPLOYMENT, init_container())),
        passes("false in a component's own securityContext", milvus(own_sc("dataNode"))),
    ],
    "k8s-capabilities-dropped": [
        fails(
            "dropping only NET_RAW",
            k8s_edit(
                "milvus-attu",
                k.DEPLOYMENT,
                at([*ATTU, "securityContext", "capabilities"], {"drop": ["NET_RAW"]}),
            ),
        ),
        fails(
            "ALL dropped and NET_BIND_SERVICE added (PSS restricted allows it, this rule does not)",
            workload(k.DEPLOYMENT, at([*SC, "capabilities"], {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
        ),
        fails(
            "no capabilities in an init container",
            workload(k.DEPLOYMENT, init_container(at([*OWN_SC, "capabilities"], DELETE))),
        ),
        fails("nothing dropped for Milvus", milvus(global_sc(capabilities=None))),
        fails(
            "a Milvus sidecar that drops nothing",
            milvus(sidecar("proxy", at([*OWN_SC, "capabilities"], DELETE))),
        ),
        passes(
            "lower-case all",
            k8s_edit(
                "milvus-attu", k.DEPLOYMENT, at([*ATTU, "securityContext", "capabilities"], {"drop": ["all"]})
            ),
        ),
        passes(
            "ALL among others, and an empty add",
            workload(k.DAEMON_SET, at([*SC, "capabilities"], {"drop": ["NET_RAW", "ALL"], "add": []})),
        ),
    ],
    "k8s-seccomp-runtime-default": [
        fails(
            "neither the container nor the pod sets it",
            workload(
                k.DEPLOYMENT, at([*SC, "seccompProfile"], DELETE), at([*POD_SC, "seccompProfile"], DELETE)
            ),
        ),
        fails(
            "the pod's Unconfined where the container sets none",
            workload(
                k.CRON_JOB,
                at([*SC, "seccompProfile"], DELETE),
                at([*POD_SC, "seccompProfile"], {"type": "Unconfined"}),
                source="milvus-backup",
            ),
        ),
        fails(
            "Unconfined in an init container",
            workload(k.STATEFUL_SET, init_container(at([*OWN_SC, "seccompProfile"], {"type": "Unconfined"}))),
        ),
        fails("every Milvus component without a profile", milvus(global_sc(seccompProfile=None))),
        fails(
            "one Milvus component Unconfined",
            milvus(own_sc("indexNode", seccompProfile={"type": "Unconfined"})),
        ),
        fails(
            "an Unconfined Milvus sidecar",
            milvus(sidecar("proxy", at([*OWN_SC, "seccompProfile"], {"type": "Unconfined"}))),
        ),
        passes(
            "a Milvus component's own Localhost profile",
            milvus(
                own_sc("indexNode", seccompProfile={"type": "Localhost", "localhostProfile": "milvus.json"})
            ),
        ),
        passes(
            "a Localhost profile",
            k8s_edit(
                "milvus-attu",
                k.DEPLOYMENT,
                at(
                    [*ATTU, "securityContext", "seccompProfile"],
                    {"type": "Localhost", "localhostProfile": "x.json"},
                ),
            ),
        ),
        passes(
            "only the pod sets it",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "securityContext", "seccompProfile"], DELETE)),
        ),
        passes(
            "the container's RuntimeDefault over the pod's Unconfined",
            workload(k.POD, at([*POD_SC, "seccompProfile"], {"type": "Unconfined"})),
        ),
    ],
    "k8s-service-account-token-not-mounted": [
        fails("mounted on a Deployment", workload(k.DEPLOYMENT, at(["automountServiceAccountToken"], True))),
        fails("unset on a Pod", workload(k.POD, at(["automountServiceAccountToken"], DELETE))),
        passes("false on the Deployment and the CronJob", with_k8s),
        passes("false on a StatefulSet", workload(k.STATEFUL_SET)),
    ],
    "k8s-read-only-root": [
        fails(
            "the backup job with its root filesystem unset",
            k8s_edit(
                "milvus-backup",
                k.CRON_JOB,
                at([*BACKUP, "securityContext", "readOnlyRootFilesystem"], DELETE),
            ),
        ),
        fails(
            "a writable init container of the backup job",
            workload(
                k.CRON_JOB,
                init_container(at([*OWN_SC, "readOnlyRootFilesystem"], False)),
                source="milvus-backup",
            ),
        ),
        fails(
            "Attu when writableRootRoles lists only milvus",
            with_k8s,
            writableRootRoles={"milvus": WRITABLE["milvus"]},
        ),
        fails(
            "Milvus when writableRootRoles lists only attu",
            with_k8s,
            writableRootRoles={"attu": WRITABLE["attu"]},
        ),
        fails(
            "Attu without its role label",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at(["metadata", "labels", "milvus-platform.role"], DELETE)),
        ),
        passes(
            "attu is writable by default config",
            k8s_edit(
                "milvus-attu", k.DEPLOYMENT, at([*ATTU, "securityContext", "readOnlyRootFilesystem"], False)
            ),
        ),
        passes("the backup job read-only as declared", with_k8s),
        passes(
            "the backup job writable with its role listed",
            k8s_edit(
                "milvus-backup", k.CRON_JOB, at([*BACKUP, "securityContext", "readOnlyRootFilesystem"], False)
            ),
            writableRootRoles={**WRITABLE, "backup": "INC-9: the job writes its report below /app"},
        ),
    ],
    "k8s-non-root": [
        fails(
            "runAsUser 0 with runAsNonRoot",
            k8s_edit("milvus-backup", k.CRON_JOB, at([*BACKUP, "securityContext", "runAsUser"], 0)),
        ),
        fails(
            "neither the container nor the pod sets runAsNonRoot",
            workload(k.DEPLOYMENT, at([*SC, "runAsNonRoot"], DELETE), at([*POD_SC, "runAsNonRoot"], DELETE)),
        ),
        fails(
            "the container's runAsNonRoot false over the pod's true",
            workload(k.STATEFUL_SET, at([*SC, "runAsNonRoot"], False)),
        ),
        fails(
            "the pod's runAsUser 0 where the container sets no user",
            workload(k.DAEMON_SET, at([*SC, "runAsUser"], DELETE), at([*POD_SC, "runAsUser"], 0)),
        ),
        fails(
            "an init container as uid 0",
            workload(k.JOB, init_container(at([*OWN_SC, "runAsUser"], 0)), source="milvus-backup"),
        ),
        fails("Milvus without runAsNonRoot", milvus(at(["runAsNonRoot"], DELETE))),
        fails(
            "a component's securityContext as uid 0 without runAsNonRoot, over the operator's non-root pod",
            milvus(own_sc("queryNode", runAsNonRoot=False, runAsUser=0)),
        ),
        fails("uid 0 in the global securityContext", milvus(global_sc(runAsUser=0))),
        fails("a Milvus sidecar as uid 0", milvus(sidecar("mixCoord", at([*OWN_SC, "runAsUser"], 0)))),
        passes(
            "non-root from the pod only",
            k8s_edit("milvus-backup", k.CRON_JOB, at([*BACKUP, "securityContext", "runAsNonRoot"], DELETE)),
        ),
        passes(
            "the operator's non-root pod where the securityContext sets no user",
            milvus(global_sc(runAsUser=None, runAsNonRoot=None)),
        ),
        passes(
            "the container's user over the pod's uid 0",
            workload(k.DEPLOYMENT, at([*POD_SC, "runAsUser"], 0)),
        ),
        passes(
            "uid 0 for a role listed in rootRoles",
            k8s_edit("milvus-backup", k.CRON_JOB, at([*BACKUP, "securityContext", "runAsUser"], 0)),
            rootRoles={"backup": "INC-9: the restore tool needs root until upstream fixes its image"},
        ),
        passes(
            "a Milvus sidecar that sets no user in the operator's non-root pod",
            milvus(
                sidecar("mixCoord", at([*OWN_SC, "runAsUser"], DELETE), at([*OWN_SC, "runAsNonRoot"], DELETE))
            ),
        ),
    ],
    "k8s-image-pinned": [
        fails(
            "no tag on a registry with a port",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "image"], "registry:5000/attu")),
        ),
        fails(
            "Milvus left to the operator's default",
            k8s_edit("milvus-milvus", k.MILVUS, at([*COMPONENTS, "image"], DELETE)),
        ),
        fails("no tag", workload(k.DEPLOYMENT, at([*C, "image"], "zilliz/attu"))),
        fails("a major tag", workload(k.DEPLOYMENT, at([*C, "image"], "zilliz/attu:v2"))),
        fails("a minor tag for Milvus", milvus(at(["image"], "milvusdb/milvus:v2.5"))),
        fails(
            "a word",
            workload(k.JOB, at([*C, "image"], "milvusdb/milvus-backup:stable"), source="milvus-backup"),
        ),
        fails(
            "latest in an init container",
            workload(
                k.JOB, init_container(at(["image"], "milvusdb/milvus-backup:latest")), source="milvus-backup"
            ),
        ),
        fails("a component's own latest", milvus(at(["queryNode", "image"], "milvusdb/milvus:latest"))),
        fails(
            "a Milvus sidecar's latest image",
            milvus(sidecar("indexNode", at(["image"], "fluent/fluent-bit:latest"))),
        ),
        passes(
            "a digest",
            k8s_edit("milvus-attu", k.DEPLOYMENT, at([*ATTU, "image"], "zilliz/attu@sha256:" + "a" * 64)),
        ),
        passes("a full version as declared", with_k8s),
        passes(
            "a minor tag pinned by its digest",
            workload(k.DEPLOYMENT, at([*C, "image"], "zilliz/attu:v2.5" + DIGEST)),
        ),
        passes(
            "a registry with a port and a full version",
            workload(k.DEPLOYMENT, at([*C, "image"], "registry.lab:5000/zilliz/attu:v2.5.10")),
        ),
        passes(
            "a release stamp",
            workload(
                k.JOB, at([*C, "image"], "minio/mc:RELEASE.2024-05-24T09-08-49Z"), source="milvus-backup"
            ),
        ),
        passes(
            "each component's own pinned image, no global one",
            milvus(
                at(["image"], DELETE),
                every_component(lambda name: at([name, "image"], "milvusdb/milvus:v2.5.15")),
            ),
        ),
        passes("a Milvus sidecar's full version", milvus(sidecar("indexNode"))),
    ],
}


@pytest.mark.parametrize(("rule", "edge"), edge_cases(EDGES))
def test_edge(rule: str, edge: Edge) -> None:
    assert_edge(rule, edge)
    assert_no_other_rule(rule, edge)


def test_exemptions_name_the_resource_and_need_a_reason() -> None:
    stack = MUTATIONS[1].mutate(good_stack())
    config = {
        "k8s-not-privileged": {"exemptions": [{"resource": "milvus-backup", "reason": "INC-7 debugging"}]}
    }
    assert evaluate(stack, config) == []
    assert [p for p in POLICIES if p.name == "k8s-not-privileged"]
