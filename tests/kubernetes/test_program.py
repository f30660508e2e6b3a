"""The real __main__.py for a `kubernetes` stack under Pulumi's mocks: what it declares, under which parent
and provider, in which order, with which protection, secrets never in plaintext, and no churn."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.kubernetes.lab import VARIANTS, program, section
from tools.pulumi_mocks import Program

NS = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
MILVUS = "kubernetes:milvus.io/v1beta1:Milvus"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CLUSTER = "milvus:kubernetes:MilvusCluster"
PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def lab() -> Program:
    return program()


def test_declares_the_cluster_once(lab: Program) -> None:
    counts = Counter(r.type for r in lab.resources)
    assert counts == {
        PROVIDER: 1,
        CLUSTER: 1,
        NS: 2,
        RELEASE: 1,
        "random:index/randomPassword:RandomPassword": 2,
        SECRET: 2,
        POLICY: 8,  # default deny + etcd, minio, pulsar, milvus, etcd-snapshot, attu; the operator's namespace
        MILVUS: 1,
        "kubernetes:apps/v1:Deployment": 1,
        "kubernetes:core/v1:Service": 2,  # Attu, and Milvus's NodePort for clients
        "kubernetes:networking.k8s.io/v1:Ingress": 1,
        "kubernetes:core/v1:ConfigMap": 2,  # the backup job's and the etcd snapshot job's files
        "kubernetes:batch/v1:CronJob": 2,  # milvus-backup, etcd snapshots
        "kubernetes:core/v1:PersistentVolumeClaim": 1,  # the etcd snapshots
        "milvus:access:MilvusAccess": 1,  # root's password kept as the stack says (components/access)
        "pulumi-python:dynamic/milvus:RootPassword": 1,
    }
    assert not any(r.type.startswith("docker:") or r.type.startswith("proxmoxve:") for r in lab.resources)


def test_every_resource_is_a_child_of_the_cluster_and_uses_the_one_provider(lab: Program) -> None:
    provider = lab.of_type(PROVIDER)[0]
    cluster = lab.of_type(CLUSTER)[0]
    assert provider.name == "kubernetes" and provider.inputs == {"context": "lab-rke2"}
    access = lab.of_type("milvus:access:MilvusAccess")[0]  # every target's, beside the cluster
    for resource in lab.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.urn
        if resource.parent == access.urn:
            continue
        if resource.type not in (PROVIDER, CLUSTER, access.type):
            assert resource.parent == cluster.urn, resource.urn
            assert resource.name.startswith(cluster.name + "-"), resource.name


def test_operator_and_secrets_before_the_milvus_resource(lab: Program) -> None:
    milvus = lab.of_type(MILVUS)[0]
    needs = {lab.by_urn(urn).name for urn in milvus.dependencies}
    assert {"milvus-operator", "milvus-storage-secret", "milvus-root-secret", "milvus-namespace"} <= needs
    release = lab.one(RELEASE, "milvus-operator")
    assert lab.one(NS, "milvus-operator-namespace").urn in release.dependencies
    backup = lab.one("kubernetes:batch/v1:CronJob", "milvus-backup")
    assert {lab.by_urn(u).name for u in backup.dependencies} >= {
        "milvus-milvus",
        "milvus-backup-config",
        "milvus-storage-secret",
        "milvus-root-secret",
    }
    snapshots = lab.one("kubernetes:batch/v1:CronJob", "milvus-etcd-snapshot")
    assert {lab.by_urn(u).name for u in snapshots.dependencies} >= {
        "milvus-milvus",
        "milvus-etcd-snapshot-config",
        "milvus-etcd-snapshots",
    }
    for secret in lab.of_type(SECRET):
        # Each Secret waits for its password and namespace; nothing else comes first.
        assert lab.one(NS, "milvus-namespace").urn in secret.dependencies


def test_the_operator_release_is_pinned(lab: Program) -> None:
    release = lab.one(RELEASE, "milvus-operator")
    assert release.inputs["chart"] == "milvus-operator" and release.inputs["version"] == "1.3.8"
    assert release.inputs["repositoryOpts"] == {"repo": "https://zilliztech.github.io/milvus-operator/"}
    assert release.inputs["namespace"] == "milvus-operator" and release.inputs["name"] == "milvus-operator"
    assert release.inputs["values"]["installCRDs"] is True
    assert release.inputs["values"]["image"] == {"repository": "milvusdb/milvus-operator", "tag": "v1.3.8"}


def protected(p: Program) -> set[str]:
    return {r.name for r in p.resources if r.protect}


def test_protect_data_keeps_namespace_operator_milvus_and_the_etcd_snapshots() -> None:
    lab, throwaway = program(), program(**VARIANTS["throwaway"])
    kept = {"milvus-namespace", "milvus-operator", "milvus-milvus", "milvus-etcd-snapshots"}
    assert protected(lab) == kept
    assert {r.name for r in lab.resources if r.retain_on_delete} == kept
    assert protected(throwaway) == set()
    kept_deps, deleted_deps = (p.of_type(MILVUS)[0].inputs["spec"]["dependencies"] for p in (lab, throwaway))
    for dependency in ("etcd", "storage", "pulsar"):
        assert kept_deps[dependency]["inCluster"]["deletionPolicy"] == "Retain"
        assert kept_deps[dependency]["inCluster"]["pvcDeletion"] is False
        assert deleted_deps[dependency]["inCluster"]["deletionPolicy"] == "Delete"
        assert deleted_deps[dependency]["inCluster"]["pvcDeletion"] is True


def secrets_of(p: Program) -> set[str]:
    values = set(p.config.placeholders.values())
    return values | {
        p.outputs["minioRootPassword"],
        p.outputs.get("milvusPassword") or p.outputs["minioRootPassword"],
    }


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_secret_in_any_plaintext_input_or_output(variant: str) -> None:
    p = program(**VARIANTS[variant])
    secrets = secrets_of(p)
    leaks = [(where, s) for where, s in p.plaintext_strings() if any(secret in s for secret in secrets)]
    assert leaks == []
    for secret in p.of_type(SECRET):
        assert "stringData" in secret.secret_input_names()
    assert "minioRootPassword" in p.secret_outputs


def test_given_passwords_reach_only_the_secrets() -> None:
    p = program(minio={"rootPassword": {"secure": "x"}}, milvus={"rootPassword": {"secure": "y"}})
    given = set(p.config.placeholders.values())
    assert not p.of_type("random:index/randomPassword:RandomPassword")
    holders = {r.name for r in p.resources for _, s, _ in _strings(r.wire) if s in given}
    assert holders == {"milvus-storage-secret", "milvus-root-secret", "milvus-access-root-password"}
    assert [s for _, s in p.plaintext_strings() if s in given] == []


def _strings(value: Any) -> Any:
    from tools.pulumi_mocks import strings

    return strings(value)


def test_outputs(lab: Program) -> None:
    outputs = lab.outputs
    assert outputs["milvusUri"] == "http://10.25.20.31:31953"  # the NodePort on the configured worker
    assert outputs["milvusHealthUrl"] == "http://127.0.0.1:9091/healthz"
    assert outputs["attuUrl"] == "https://attu.lab.example.org"
    assert outputs["minioApiUrl"] == "http://milvus-minio.milvus-platform.svc:9000"
    assert outputs["minioConsoleUrl"] is None and outputs["backupApiUrl"] is None
    assert outputs["kubernetes"]["portForward"] == (
        "kubectl --context lab-rke2 -n milvus-platform port-forward svc/milvus-milvus 19530:19530 9091:9091"
    )
    assert outputs["backupSchedule"] == {
        "milvus": "0 2 * * *",
        "etcd": "0 */6 * * *",  # the etcd snapshot CronJob's, as on Docker
        "offsite": None,
        "timezone": "Etc/UTC",
    }
    assert outputs["milvusUser"] == "root" and outputs["minioRootUser"] == "milvus-platform"
    assert {"milvusPassword", "minioRootPassword"} <= lab.secret_outputs
    assert "dockerHost" not in outputs


def test_cluster_ip_is_reached_through_port_forward() -> None:
    p = program(**VARIANTS["cluster-ip"])
    assert p.outputs["milvusUri"] == "http://127.0.0.1:19530"
    assert not [r for r in p.of_type("kubernetes:core/v1:Service") if r.name == "milvus-milvus-external"]


def test_auth_off_creates_no_root_secret_and_exports_no_credentials() -> None:
    p = program(**VARIANTS["auth-off"])
    assert [s.name for s in p.of_type(SECRET)] == ["milvus-storage-secret"]
    assert "milvusPassword" not in p.outputs and "milvusUser" not in p.outputs
    spec = p.of_type(MILVUS)[0].inputs["spec"]
    assert spec["config"]["common"]["security"]["authorizationEnabled"] is False
    assert "env" not in spec["components"]


def wire(p: Program) -> dict[str, Any]:
    return {r.urn: (r.wire, sorted(r.dependencies), r.parent, r.provider, r.protect) for r in p.resources}


def test_a_second_run_declares_identical_inputs() -> None:
    assert wire(program()) == wire(program())


def test_a_version_bump_changes_only_the_milvus_resource() -> None:
    before = wire(program())
    after = wire(
        program(
            versions={
                "milvus": "milvusdb/milvus:v2.5.16",
                "attu": "zilliz/attu:v2.5.10",
                "etcd": "quay.io/coreos/etcd:v3.5.18",
                "minio": "minio/minio:RELEASE.2024-05-28T17-19-04Z",
                "backup": "milvusdb/milvus-backup:v0.5.16",
            }
        )
    )
    changed = {urn.rsplit("::", 1)[1] for urn in before if before[urn] != after[urn]}
    assert changed == {"milvus-milvus"}


def test_urns_of_protected_resources() -> None:
    """Renaming these would delete and recreate the namespace, the operator or the Milvus resource."""
    urns = sorted(r.urn for r in program().resources if r.protect)
    prefix = "urn:pulumi:k8s::milvus-platform::milvus:kubernetes:MilvusCluster$"
    assert urns == sorted(
        [
            prefix + "kubernetes:core/v1:Namespace::milvus-namespace",
            prefix + "kubernetes:helm.sh/v3:Release::milvus-operator",
            prefix + "kubernetes:milvus.io/v1beta1:Milvus::milvus-milvus",
            prefix + "kubernetes:core/v1:PersistentVolumeClaim::milvus-etcd-snapshots",
        ]
    )


def test_the_kafka_variant_swaps_the_queue_and_its_policy() -> None:
    p = program(**VARIANTS["kafka"])
    deps = p.of_type(MILVUS)[0].inputs["spec"]["dependencies"]
    assert deps["msgStreamType"] == "kafka" and "kafka" in deps and "pulsar" not in deps
    # The whole set: the queue's policy is swapped, not added beside Pulsar's (each namespace its deny-all).
    assert sorted(r.inputs["metadata"]["name"] for r in p.of_type(POLICY)) == [
        "attu",
        "default-deny-ingress",
        "default-deny-ingress",
        "etcd",
        "etcd-snapshot",
        "kafka",
        "milvus",
        "minio",
    ]
    assert section(messageQueue="kafka")["messageQueue"] == "kafka"
