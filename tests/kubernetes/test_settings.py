"""`milvus-platform:kubernetes`: accepted and refused values at each key's edges, one ConfigError each."""

from __future__ import annotations

from typing import Any

import pytest

from components.config_reader import ConfigError
from components.kubernetes import milvus_cr
from components.kubernetes.pods import names_for
from components.kubernetes.settings import MilvusService, total_memory_mb
from tests.kubernetes.lab import config, section


def test_the_lab_stack() -> None:
    k8s = config().kubernetes
    assert k8s is not None
    assert (k8s.context, k8s.namespace, k8s.operator_namespace) == (
        "lab-rke2",
        "milvus-platform",
        "milvus-operator",
    )
    assert k8s.message_queue == "pulsar" and k8s.storage_class == "local-path"
    assert k8s.milvus_service == MilvusService(
        type="NodePort", address="10.25.20.31", node_port=31953, node="proj-k8sw01"
    )
    assert k8s.components["queryNode"].memory_mb == 8192  # memoryMb.milvus
    assert total_memory_mb(k8s) == 2 * 2048 + 2048 + 2 * 8192 + 4096 + 4096


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("provider default context", {"context": None}),
    ("kafka", {"messageQueue": "kafka"}),
    ("cluster default storage class", {"storageClass": None}),
    ("one replica", {"components": {"proxy": {"replicas": 1}}}),
    ("64 replicas", {"components": {"queryNode": {"replicas": 64}}}),
    (
        "lowest node port",
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "nodePort": 30000, "node": "w1"}},
    ),
    (
        "highest node port",
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "nodePort": 32767, "node": "w1"}},
    ),
    (
        "load balancer by name",
        {"milvusService": {"type": "LoadBalancer", "address": "milvus.lab.example.org"}},
    ),
    ("port-forward", {"milvusService": {"type": "ClusterIP"}}),
    ("toleration Exists", {"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]}),
    ("toleration of everything", {"tolerations": [{"operator": "Exists"}]}),
    ("prefixed label", {"nodeSelector": {"node-role.kubernetes.io/worker": "true"}}),
    # The accepted side of every size bound the refused cases below cross.
    ("least component memory", {"components": {"dataNode": {"memoryMb": 512}}}),
    ("most component memory", {"components": {"dataNode": {"memoryMb": 1024 * 1024}}}),
    ("least cpu", {"components": {"indexNode": {"cpuMillis": 100}}}),
    ("most cpu", {"components": {"indexNode": {"cpuMillis": 256_000}}}),
    ("least MinIO volume", {"storageGb": {"minio": 10}}),
    ("most MinIO volume", {"storageGb": {"minio": 64 * 1024}}),
]


@pytest.mark.parametrize(("case", "change"), ACCEPTED, ids=[c for c, _ in ACCEPTED])
def test_accepted(case: str, change: dict[str, Any]) -> None:
    assert config(section(**change)).kubernetes is not None


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"messageQueue": "woodpecker"}, "kubernetes.messageQueue"),
    ({"messageQueue": "rocksmq"}, "kubernetes.messageQueue"),
    ({"namespace": "Milvus"}, "kubernetes.namespace"),
    ({"operatorNamespace": "milvus-platform"}, "kubernetes.operatorNamespace"),
    ({"context": "two words"}, "kubernetes.context"),
    ({"storageClass": "Local_Path"}, "kubernetes.storageClass"),
    ({"nodeSelector": {"bad key!": "x"}}, "kubernetes.nodeSelector.bad key!"),
    ({"nodeSelector": {"zone": "a b"}}, "kubernetes.nodeSelector.zone"),
    (
        {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "x"}]},
        "kubernetes.tolerations[0].value",
    ),
    ({"tolerations": [{"operator": "Equal"}]}, "kubernetes.tolerations[0].key"),
    ({"tolerations": [{"key": "a", "effect": "Evict"}]}, "kubernetes.tolerations[0].effect"),
    ({"tolerations": [{"key": "a", "typo": 1}]}, "kubernetes.tolerations[0].typo"),
    ({"ingress": {"tlsSecret": "attu-tls"}}, "kubernetes.ingress.host"),
    ({"ingress": {"host": "attu", "tlsSecret": "attu-tls"}}, "kubernetes.ingress.host"),
    ({"ingress": {"host": "attu.lab.example.org"}}, "kubernetes.ingress.tlsSecret"),
    ({"milvusService": {"type": "ExternalName"}}, "kubernetes.milvusService.type"),
    (
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "node": "w1"}},
        "kubernetes.milvusService.nodePort",
    ),
    (
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "nodePort": 30000}},
        "kubernetes.milvusService.node",
    ),
    (
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "nodePort": 30000, "node": "Worker_1"}},
        "kubernetes.milvusService.node",
    ),
    (
        {"milvusService": {"type": "LoadBalancer", "address": "10.0.0.1", "node": "w1"}},
        "kubernetes.milvusService.node",
    ),
    (
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "nodePort": 29999, "node": "w1"}},
        "kubernetes.milvusService.nodePort",
    ),
    (
        {"milvusService": {"type": "NodePort", "address": "10.0.0.1", "nodePort": 32768, "node": "w1"}},
        "kubernetes.milvusService.nodePort",
    ),
    ({"milvusService": {"type": "LoadBalancer"}}, "kubernetes.milvusService.address"),
    ({"milvusService": {"type": "ClusterIP", "nodePort": 30001}}, "kubernetes.milvusService.nodePort"),
    ({"clientCidrs": ["0.0.0.0/0"]}, "kubernetes.clientCidrs[0]"),
    ({"clientCidrs": ["10.25.20.1/24"]}, "kubernetes.clientCidrs[0]"),
    ({"components": {"proxy": {"replicas": 0}}}, "kubernetes.components.proxy.replicas"),
    ({"components": {"proxy": {"replicas": 65}}}, "kubernetes.components.proxy.replicas"),
    ({"components": {"dataNode": {"memoryMb": 511}}}, "kubernetes.components.dataNode.memoryMb"),
    ({"components": {"queryNode": {"memoryMb": 8192}}}, "kubernetes.components.queryNode.memoryMb"),
    ({"components": {"dataNode": {"memoryMb": 1024 * 1024 + 1}}}, "kubernetes.components.dataNode.memoryMb"),
    ({"components": {"indexNode": {"cpuMillis": 99}}}, "kubernetes.components.indexNode.cpuMillis"),
    ({"components": {"indexNode": {"cpuMillis": 256_001}}}, "kubernetes.components.indexNode.cpuMillis"),
    ({"storageGb": {"minio": 64 * 1024 + 1}}, "kubernetes.storageGb.minio"),
    ({"components": {"streamingNode": {"replicas": 1}}}, "kubernetes.components.streamingNode"),
    ({"storageGb": {"minio": 9}}, "kubernetes.storageGb.minio"),
    ({"storageClas": "local-path"}, "kubernetes.storageClas"),
]


@pytest.mark.parametrize(("change", "key"), REFUSED, ids=[k for _, k in REFUSED])
def test_refused_naming_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        config(section(**change))
    assert error.value.key == key


def test_the_section_only_with_target_kubernetes() -> None:
    with pytest.raises(ConfigError) as error:
        config(section(), target="local")
    assert error.value.key == "kubernetes"


def test_offsite_backups_are_refused_until_the_target_has_a_job() -> None:
    offsite = {
        "endpoint": "https://s3.example.org",
        "bucket": "offsite",
        "accessKey": {"secure": "a"},
        "secretKey": {"secure": "b"},
    }
    with pytest.raises(ConfigError) as error:
        config(section(), backup={"offsite": offsite})
    assert error.value.key == "backup.offsite"


def test_the_shared_minimum_for_the_query_node_holds() -> None:
    with pytest.raises(ConfigError) as error:
        config(section(), memoryMb={"etcd": 1024, "minio": 2048, "milvus": 2048, "attu": 512, "backup": 512})
    assert error.value.key == "memoryMb.milvus"


DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("reference", "image"),
    [
        ("minio/minio:RELEASE.2024-05-28T17-19-04Z", "minio/minio:RELEASE.2024-05-28T17-19-04Z"),
        # The digest rides on the tag: the chart writes repository:tag, and the pin must survive it.
        (
            f"minio/minio:RELEASE.2024-05-28T17-19-04Z@{DIGEST}",
            f"minio/minio:RELEASE.2024-05-28T17-19-04Z@{DIGEST}",
        ),
        (
            f"registry.lab:5000/minio/minio:RELEASE.2024-05-28T17-19-04Z@{DIGEST}",
            f"registry.lab:5000/minio/minio:RELEASE.2024-05-28T17-19-04Z@{DIGEST}",
        ),
    ],
)
def test_the_minio_chart_runs_the_pinned_image(reference: str, image: str) -> None:
    platform = config(section(), versions={"minio": reference})
    assert platform.kubernetes is not None
    values = milvus_cr.minio_values(platform, names_for(platform.kubernetes))["image"]
    assert f"{values['repository']}:{values['tag']}" == image


def test_a_minio_digest_without_a_tag_is_refused_on_this_target() -> None:
    with pytest.raises(ConfigError) as error:
        config(section(), versions={"minio": f"minio/minio@{DIGEST}"})
    assert error.value.key == "versions.minio"
