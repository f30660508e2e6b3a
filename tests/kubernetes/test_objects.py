"""The pure builders of components/kubernetes: hardening of every pod, credentials only by Secret
reference, the backup job's schedule and retention semantics, and who the NetworkPolicies let reach what."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.backup import BACKUP_CONFIG_PATH
from components.kubernetes import apps, etcd_snapshots, milvus_cr, network
from components.kubernetes.pods import names_for, quantity_cpu, quantity_mb, resources, selector
from tests.kubernetes.lab import config, section

REPO = Path(__file__).resolve().parents[2]
CONFIG = config()
assert CONFIG.kubernetes is not None
NAMES = names_for(CONFIG.kubernetes)


def pod_specs() -> dict[str, dict[str, Any]]:
    return {
        "attu": apps.attu_deployment(CONFIG, NAMES)["spec"]["template"]["spec"],
        "backup": apps.backup_cron_job(CONFIG, NAMES)["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "etcd-snapshot": etcd_snapshots.snapshot_cron_job(CONFIG, NAMES)["spec"]["jobTemplate"]["spec"][
            "template"
        ]["spec"],
    }


@pytest.mark.parametrize("role", ["attu", "backup", "etcd-snapshot"])
def test_every_pod_is_restricted(role: str) -> None:
    pod = pod_specs()[role]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for absent in ("hostNetwork", "hostPID", "hostIPC"):
        assert absent not in pod
    assert all("hostPath" not in volume for volume in pod["volumes"])
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["privileged"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert limits == requests and set(limits) == {"cpu", "memory"}
        assert ":" in container["image"] and not container["image"].endswith(":latest")
    # Only Attu needs a writable root: it rewrites /app/build/env-config.js at start.
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is (role != "attu")


def test_memory_keeps_the_shared_meaning() -> None:
    memory = CONFIG.memory
    assert (memory.etcd, memory.minio, memory.milvus, memory.attu, memory.backup) == (
        1024,
        2048,
        8192,
        512,
        512,
    )
    assert CONFIG.backup.memory_mb == 256
    sizes = {role: pod["containers"][0]["resources"]["limits"]["memory"] for role, pod in pod_specs().items()}
    # On Docker `backup.memoryMb` sizes the scheduler, which runs the etcd snapshots.
    assert sizes == {"attu": "512Mi", "backup": "512Mi", "etcd-snapshot": "256Mi"}
    spec = milvus_cr.milvus_resource(CONFIG, NAMES)["spec"]
    assert spec["components"]["queryNode"]["resources"]["limits"]["memory"] == "8Gi"
    values = spec["dependencies"]
    assert values["etcd"]["inCluster"]["values"]["resources"]["limits"]["memory"] == "1Gi"
    assert values["storage"]["inCluster"]["values"]["resources"]["limits"]["memory"] == "2Gi"


@pytest.mark.parametrize(
    ("megabytes", "spelling"),
    [
        (1, "1Mi"),
        (1023, "1023Mi"),
        (1024, "1Gi"),
        (1025, "1025Mi"),
        (1536, "1536Mi"),
        (2048, "2Gi"),
        (1024 * 1024, "1Ti"),
        (1024 * 1024 + 1024, "1025Gi"),
    ],
)
def test_memory_is_written_as_the_api_server_reads_it_back(megabytes: int, spelling: str) -> None:
    # resource.Quantity's canonical form: otherwise a refresh reads "2Gi" and the next `up` writes "2048Mi".
    assert quantity_mb(megabytes) == spelling


@pytest.mark.parametrize(
    ("millis", "spelling"), [(100, "100m"), (999, "999m"), (1000, "1"), (1001, "1001m"), (4000, "4")]
)
def test_cpu_is_written_as_the_api_server_reads_it_back(millis: int, spelling: str) -> None:
    assert quantity_cpu(millis) == spelling


def test_resources_are_canonical_and_requests_equal_limits() -> None:
    amount = {"memory": "2Gi", "cpu": "1"}
    assert resources(2048, 1000) == {"requests": amount, "limits": amount}


def test_every_milvus_component_has_requests_and_limits_and_the_pinned_image() -> None:
    components = milvus_cr.milvus_resource(CONFIG, NAMES)["spec"]["components"]
    assert components["image"] == "milvusdb/milvus:v2.5.15" and components["runAsNonRoot"] is True
    assert components["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert components["securityContext"]["allowPrivilegeEscalation"] is False
    for name in ("proxy", "mixCoord", "queryNode", "dataNode", "indexNode"):
        resources = components[name]["resources"]
        assert resources["limits"] == resources["requests"], name
    assert components["proxy"]["serviceType"] == "ClusterIP"
    assert "hostNetwork" not in components and "streamingNode" not in components


def test_the_proxies_run_on_the_node_clients_reach_only_with_a_node_port() -> None:
    # externalTrafficPolicy Local: a node answers on the NodePort only when it runs a proxy pod.
    assert milvus_cr.milvus_resource(CONFIG, NAMES)["spec"]["components"]["proxy"]["nodeSelector"] == {
        "kubernetes.io/os": "linux",  # the stack's nodeSelector: the component's replaces it, so carries it
        "kubernetes.io/hostname": "proj-k8sw01",
    }
    for service in ({"type": "ClusterIP"}, {"type": "LoadBalancer", "address": "10.25.20.40"}):
        other = config(section(milvusService=service))
        assert other.kubernetes is not None
        proxy = milvus_cr.milvus_resource(other, names_for(other.kubernetes))["spec"]["components"]["proxy"]
        assert "nodeSelector" not in proxy, service


def test_credentials_only_by_secret_reference() -> None:
    resource = milvus_cr.milvus_resource(CONFIG, NAMES)
    spec = resource["spec"]
    assert spec["components"]["env"] == [
        {
            "name": "COMMON_SECURITY_DEFAULTROOTPASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "milvus-root-credentials", "key": "password"}},
        }
    ]
    storage = spec["dependencies"]["storage"]
    assert storage["secretRef"] == NAMES.storage_secret == "milvus-minio"
    values = storage["inCluster"]["values"]
    assert values["existingSecret"] == "milvus-minio" and values["accessKey"] == values["secretKey"] == ""
    text = yaml.safe_dump(resource)
    assert "minioadmin" not in text and "password: Milvus" not in text
    assert "defaultRootPassword" not in text and "secretAccessKey" not in text
    secret = apps.storage_secret(CONFIG, NAMES, "user", "s3cret")
    assert secret["stringData"] == {"accesskey": "user", "secretkey": "s3cret"}


def test_the_ingress_reaches_attu_by_a_port_its_service_and_probes_have() -> None:
    service, ingress = apps.attu_service(CONFIG, NAMES), apps.attu_ingress(CONFIG, NAMES)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 3000, "targetPort": "http", "protocol": "TCP"}
    ]
    container = apps.attu_deployment(CONFIG, NAMES)["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/api/v1/healthy", "port": "http"}, probe
    # A non-root user: yarn writes below HOME, which must be the writable emptyDir.
    assert {e["name"]: e["value"] for e in container["env"]}["HOME"] == "/tmp"
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_the_backup_job_is_the_docker_schedulers_job() -> None:
    job = apps.backup_cron_job(CONFIG, NAMES)
    assert job["spec"]["schedule"] == CONFIG.backup.milvus_schedule
    assert job["spec"]["timeZone"] == CONFIG.backup.time_zone
    assert job["spec"]["concurrencyPolicy"] == "Forbid"  # run-job.sh's lock: never two runs at once
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "/app/scheduler/milvus-backup-job.sh"]
    # Read-only root filesystem: the scripts keep state under /tmp (lib.sh: mc's config dir, status files).
    assert container["volumeMounts"] == [
        {"name": "scripts", "mountPath": "/app/scheduler", "readOnly": True},
        {"name": "config", "mountPath": "/app/configs", "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in volumes] == ["scripts", "config", "tmp"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["MILVUS_KEEP_DAYS"] == str(CONFIG.backup.milvus_keep_days)
    assert env["MILVUS_BACKUP_PREFIX"] == "scheduled_"
    assert env["MINIO_SECRET_KEY"] == {"secretKeyRef": {"name": "milvus-minio", "key": "secretkey"}}
    assert env["MILVUS_PASSWORD"] == {"secretKeyRef": {"name": "milvus-root-credentials", "key": "password"}}
    files = apps.backup_config_map(CONFIG, NAMES)["data"]
    for script in ("lib.sh", "milvus-backup-job.sh"):
        assert files[script] == (REPO / "backup" / "scheduler" / script).read_text()
    rendered = yaml.safe_load(files[Path(BACKUP_CONFIG_PATH).name])
    assert rendered["milvus"]["address"] == "milvus-milvus.milvus-platform.svc"
    assert rendered["minio"]["address"] == "milvus-minio.milvus-platform.svc"
    assert rendered["minio"]["accessKeyID"] == rendered["minio"]["secretAccessKey"] == ""
    assert rendered["minio"]["backupBucketName"] == CONFIG.minio.backup_bucket
    # The bucket exists before the first backup: MinIO's chart makes it at install and upgrade.
    values = milvus_cr.minio_values(CONFIG, NAMES)
    assert values["buckets"] == [{"name": "milvus-backups", "policy": "none", "purge": False}]


# --------------------------------------------------------------------------------------------------
# Who reaches what: the NetworkPolicies, evaluated as Kubernetes evaluates them.
# --------------------------------------------------------------------------------------------------


def _matches(selector_: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector_.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def allowed(
    policies: list[dict[str, Any]], source: dict[str, Any], target: dict[str, str], port: int
) -> bool:
    """Ingress to a pod with `target` labels in the platform namespace from `source` on `port`."""
    selecting = [p for p in policies if _matches(p["spec"]["podSelector"], target)]
    assert selecting, f"no policy selects {target}"
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and port not in {p["port"] for p in ports}:
                continue
            for peer in rule.get("from") or []:
                if "ipBlock" in peer:
                    if "ip" in source and ipaddress.ip_address(source["ip"]) in ipaddress.ip_network(
                        peer["ipBlock"]["cidr"]
                    ):
                        return True
                    continue
                if "ip" in source:
                    continue
                if "namespaceSelector" in peer:
                    if _matches(
                        peer["namespaceSelector"], {"kubernetes.io/metadata.name": source["namespace"]}
                    ):
                        return True
                    continue
                if source["namespace"] == NAMES.namespace and _matches(peer["podSelector"], source["labels"]):
                    return True
    return False


def pod(labels: dict[str, str], namespace: str = "milvus-platform") -> dict[str, Any]:
    return {"namespace": namespace, "labels": labels}


POLICIES = network.network_policies(CONFIG, NAMES)
MILVUS = pod(NAMES.milvus_pods("queryNode"))
PROXY = NAMES.milvus_pods("proxy")
ATTU = pod(selector("attu"))
BACKUP = pod(selector("backup"))
SNAPSHOT_JOB = pod(selector("etcd-snapshot"))
OPERATOR = pod({"app": "milvus-operator"}, "milvus-operator")
STRANGER = pod({"app": "something-else"})
OTHER_NAMESPACE = pod(NAMES.milvus_pods("proxy"), "default")
TRAEFIK = pod({"app.kubernetes.io/name": "traefik"}, "kube-system")
CLIENT = {"ip": "10.25.20.77"}
OUTSIDER = {"ip": "192.168.1.5"}
ETCD = NAMES.dependency_pods("etcd")
MINIO = NAMES.dependency_pods("minio")
PULSAR = NAMES.dependency_pods("pulsar")
ATTU_PODS = selector("attu")

REACH = [
    # (who, target pods, port, allowed)
    ("milvus->etcd", MILVUS, ETCD, 2379, True),
    ("operator->etcd", OPERATOR, ETCD, 2379, True),
    ("etcd peer", pod(ETCD), ETCD, 2380, True),
    ("attu->etcd", ATTU, ETCD, 2379, False),
    ("backup->etcd", BACKUP, ETCD, 2379, False),
    ("etcd snapshot->etcd", SNAPSHOT_JOB, ETCD, 2379, True),
    ("etcd snapshot->etcd peer port", SNAPSHOT_JOB, ETCD, 2380, False),
    ("etcd snapshot->minio", SNAPSHOT_JOB, MINIO, 9000, False),
    ("etcd snapshot->milvus", SNAPSHOT_JOB, PROXY, 19530, False),
    ("anyone->etcd snapshot job", MILVUS, selector("etcd-snapshot"), 2379, False),
    ("client->etcd", CLIENT, ETCD, 2379, False),
    ("milvus->etcd peer port", MILVUS, ETCD, 2380, False),
    ("milvus->minio", MILVUS, MINIO, 9000, True),
    ("backup->minio", BACKUP, MINIO, 9000, True),
    ("attu->minio", ATTU, MINIO, 9000, False),
    ("stranger->minio", STRANGER, MINIO, 9000, False),
    ("client->minio", CLIENT, MINIO, 9000, False),
    ("milvus->pulsar", MILVUS, PULSAR, 6650, True),
    ("attu->pulsar", ATTU, PULSAR, 6650, False),
    ("pulsar internal", pod(PULSAR), PULSAR, 3181, True),
    ("attu->milvus", ATTU, PROXY, 19530, True),
    ("backup->milvus", BACKUP, PROXY, 19530, True),
    ("backup->milvus gc pause", BACKUP, PROXY, 9091, True),
    ("client->milvus", CLIENT, PROXY, 19530, True),
    ("client->milvus management", CLIENT, PROXY, 9091, False),
    ("outsider->milvus", OUTSIDER, PROXY, 19530, False),
    ("stranger->milvus", STRANGER, PROXY, 19530, False),
    ("other namespace->milvus", OTHER_NAMESPACE, PROXY, 19530, False),
    ("milvus internal", MILVUS, PROXY, 19530, True),
    ("ingress->attu", TRAEFIK, ATTU_PODS, 3000, True),
    ("client->attu directly", CLIENT, ATTU_PODS, 3000, False),
    ("stranger->attu", STRANGER, ATTU_PODS, 3000, False),
    ("anyone->backup job", ATTU, selector("backup"), 8080, False),
]


@pytest.mark.parametrize(("case", "source", "target", "port", "expected"), REACH, ids=[r[0] for r in REACH])
def test_network_policies(
    case: str, source: dict[str, Any], target: dict[str, str], port: int, expected: bool
) -> None:
    assert allowed(POLICIES, source, target, port) is expected


def test_the_kafka_queue_is_open_to_milvus_only() -> None:
    kafka_config = config(section(messageQueue="kafka"))
    policies = network.network_policies(kafka_config, NAMES)
    kafka = NAMES.dependency_pods("kafka")
    assert allowed(policies, MILVUS, kafka, 9092) and not allowed(policies, ATTU, kafka, 9092)
    assert not any(p["metadata"]["name"] == "pulsar" for p in policies)
