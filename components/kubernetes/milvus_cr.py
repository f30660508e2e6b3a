"""The Milvus Operator's Helm values and the `Milvus` custom resource (cluster mode), as pure data.

Dependencies are the ones the operator itself runs for Milvus 2.5 in cluster mode (`inCluster`): etcd
(bitnami etcd chart), MinIO (milvus-helm's minio chart) and the message queue, Pulsar by default or Kafka
(`kubernetes.messageQueue`). rocksmq/natsmq are standalone-only and woodpecker needs Milvus 2.6
(zilliztech/milvus-operator apis/milvus.io/v1beta1/milvus_webhook.go at v1.3.8). The operator keeps them
as Helm releases named `<instance>-<dependency>` in the platform namespace.

Credentials never appear in the resource: MinIO's come from the Secret `<instance>-minio` that this
program creates from Pulumi secrets (the minio chart's `existingSecret`, and the name the operator forces
for an in-cluster storage's `secretRef`), and Milvus's initial root password reaches Milvus as an env var
read from a Secret (`valueFrom.secretKeyRef`), never as `spec.config`.
"""

from __future__ import annotations

from typing import Any

from components.config import PlatformConfig
from components.images import image_parts
from components.kubernetes import upstream
from components.kubernetes.pods import (
    Names,
    container_security,
    metadata,
    resources,
    scheduling,
    secret_env,
)
from components.kubernetes.settings import KubernetesConfig
from components.topology import MILVUS_GRPC_PORT

# The Milvus image runs as uid 1000 with `components.runAsNonRoot` (the operator sets the pod's
# runAsUser to 1000: pkg/controllers/deployment_updater.go `updatePodTemplate`); its default local
# storage path is then not writable, so local storage moves to an emptyDir, as upstream's
# config/samples/run_as_non_root.yaml does.
MILVUS_UID = 1000
LOCAL_STORAGE_PATH = "/milvus/data"
ROOT_PASSWORD_ENV = "COMMON_SECURITY_DEFAULTROOTPASSWORD"  # docs/upstream.md milvus.root-password-env
ROOT_PASSWORD_KEY = "password"
ROOT_USER_KEY = "username"
# The bitnami etcd and kafka images run as 1001 (their charts' containerSecurityContext.runAsUser).
BITNAMI_UID = 1001
OPERATOR_UID = 65532  # the operator image's USER (Dockerfile at v1.3.8)
# The operator's own pod: the chart's default resources (values.yaml), made a limit as well.
OPERATOR_MEMORY_MB = 1024
OPERATOR_CPU_MILLIS = 1000
DEPENDENCY_CPU_MILLIS = {"etcd": 1000, "minio": 2000}
ETCD_REPLICAS = 3  # a quorum that survives one node


def operator_values(config: PlatformConfig) -> dict[str, Any]:
    """Helm values of the pinned milvus-operator chart (charts/milvus-operator/values.yaml at v1.3.8)."""
    k8s = _k8s(config)
    repository, _, tag = upstream.OPERATOR_IMAGE.rpartition(":")
    return {
        # CRDs come from the chart's template, so a chart upgrade upgrades them too.
        "installCRDs": True,
        "image": {"repository": repository, "tag": tag},
        "resources": resources(OPERATOR_MEMORY_MB, OPERATOR_CPU_MILLIS),
        "podSecurityContext": {
            "runAsUser": OPERATOR_UID,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # The chart renders only this field of the container's securityContext (templates/deployment.yaml).
        "allowPrivilegeEscalation": False,
        "monitoringEnabled": False,
        **scheduling(k8s),
    }


def _k8s(config: PlatformConfig) -> KubernetesConfig:
    if config.kubernetes is None:
        raise ValueError("target kubernetes needs the `kubernetes` section")
    return config.kubernetes


def _image(reference: str) -> dict[str, str]:
    """A chart's `image` values, which its template writes as `repository:tag`: a digest rides on the tag
    (`repository:tag@sha256:...`, a valid reference the runtime pulls by digest), so the pin is kept.
    `parse` refuses a digest without a tag on this target (`versions.minio`)."""
    repository, tag, digest = image_parts(reference)
    if tag is None:
        raise ValueError(f"{reference}: the chart writes repository:tag, so the image needs a tag")
    return {"repository": repository, "tag": f"{tag}@{digest}" if digest else tag}


def _deletion(config: PlatformConfig) -> dict[str, Any]:
    """With protectData the operator keeps a dependency's release and PVCs when the Milvus is deleted."""
    if config.protect_data:
        return {"deletionPolicy": "Retain", "pvcDeletion": False}
    return {"deletionPolicy": "Delete", "pvcDeletion": True}


def _storage_class(k8s: KubernetesConfig, key: str = "storageClass") -> dict[str, str]:
    return {key: k8s.storage_class} if k8s.storage_class else {}


def _bitnami_security() -> dict[str, Any]:
    return {
        "podSecurityContext": {"enabled": True, "fsGroup": BITNAMI_UID},
        "containerSecurityContext": {"enabled": True, **container_security(False, BITNAMI_UID)},
    }


def etcd_values(config: PlatformConfig) -> dict[str, Any]:
    k8s = _k8s(config)
    return {
        "image": dict(upstream.ETCD_IMAGE),
        "replicaCount": ETCD_REPLICAS,
        "resources": resources(config.memory.etcd, DEPENDENCY_CPU_MILLIS["etcd"]),
        "persistence": {"enabled": True, "size": f"{k8s.storage_gb['etcd']}Gi", **_storage_class(k8s)},
        **_bitnami_security(),
        **scheduling(k8s),
    }


def minio_values(config: PlatformConfig, names: Names) -> dict[str, Any]:
    k8s = _k8s(config)
    return {
        "mode": "distributed",
        "image": _image(config.images.minio),
        "mcImage": dict(upstream.MC_IMAGE),
        # Our Secret (Pulumi secrets), never the chart's values: the chart then creates no Secret of its own.
        "existingSecret": names.storage_secret,
        "accessKey": "",
        "secretKey": "",
        "resources": resources(config.memory.minio, DEPENDENCY_CPU_MILLIS["minio"]),
        "persistence": {"enabled": True, "size": f"{k8s.storage_gb['minio']}Gi", **_storage_class(k8s)},
        "securityContext": {"enabled": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
        # The chart's post-install/post-upgrade job makes the backup bucket, so it exists before any backup.
        "buckets": [{"name": config.minio.backup_bucket, "policy": "none", "purge": False}],
        "makeBucketJob": {
            "securityContext": {"enabled": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
            "resources": resources(256, 250),
        },
        **scheduling(k8s),
    }


# Pulsar 3 (the chart the operator picks for a new cluster, `pulsar-v3`), sized for a small lab: one
# replica less than upstream's defaults where a quorum allows it, JVM heaps that fit the memory limits.
PULSAR_COMPONENTS = {
    # component: (replicas, memory MB, cpu millis, PULSAR_MEM)
    "zookeeper": (3, 1024, 500, "-Xms256m -Xmx256m"),
    "bookkeeper": (3, 4096, 1000, "-Xms1024m -Xmx1024m -XX:MaxDirectMemorySize=2048m"),
    "broker": (2, 4096, 1000, "-Xms1024m -Xmx1024m -XX:MaxDirectMemorySize=2048m"),
    "proxy": (1, 2048, 500, "-Xms512m -Xmx512m -XX:MaxDirectMemorySize=1024m"),
    "autorecovery": (1, 512, 250, "-Xms128m -Xmx128m"),
}


def pulsar_values(config: PlatformConfig) -> dict[str, Any]:
    k8s = _k8s(config)
    size = k8s.storage_gb["messageQueue"]
    images = {
        name: dict(upstream.PULSAR_IMAGE)
        for name in ("zookeeper", "bookie", "autorecovery", "broker", "proxy")
    }
    values: dict[str, Any] = {"images": images, "pulsar_metadata": {"image": dict(upstream.PULSAR_IMAGE)}}
    for component, (replicas, memory, cpu, heap) in PULSAR_COMPONENTS.items():
        key = "BOOKIE_MEM" if component == "autorecovery" else "PULSAR_MEM"
        values[component] = {
            "replicaCount": replicas,
            "resources": resources(memory, cpu),
            "configData": {key: heap},
            **scheduling(k8s),
        }
    values["zookeeper"]["volumes"] = {"data": {"size": "10Gi", **_storage_class(k8s, "storageClassName")}}
    values["bookkeeper"]["volumes"] = {
        "journal": {"size": f"{max(10, size // 4)}Gi", **_storage_class(k8s, "storageClassName")},
        "ledgers": {"size": f"{size}Gi", **_storage_class(k8s, "storageClassName")},
    }
    return values


def kafka_values(config: PlatformConfig) -> dict[str, Any]:
    k8s = _k8s(config)
    persistence = {"enabled": True, "size": f"{k8s.storage_gb['messageQueue']}Gi", **_storage_class(k8s)}
    return {
        "replicaCount": 3,
        "resources": resources(2048, 1000),
        "persistence": persistence,
        **_bitnami_security(),
        **scheduling(k8s),
        "zookeeper": {
            "replicaCount": 3,
            "resources": resources(1024, 500),
            "persistence": {"enabled": True, "size": "8Gi", **_storage_class(k8s)},
            **_bitnami_security(),
            **scheduling(k8s),
        },
    }


def _components(config: PlatformConfig, names: Names) -> dict[str, Any]:
    k8s = _k8s(config)
    env: list[dict[str, Any]] = []
    if config.milvus.auth_enabled:
        env.append(secret_env(ROOT_PASSWORD_ENV, names.root_secret, ROOT_PASSWORD_KEY))
    components: dict[str, Any] = {
        "image": config.images.milvus,
        "imagePullPolicy": "IfNotPresent",
        "runAsNonRoot": True,
        # Applied to each Milvus container (pkg/controllers/deployment_updater.go `updateMilvusContainer`).
        # The root filesystem stays writable: the image writes below /milvus at start.
        "securityContext": container_security(False, MILVUS_UID),
        "volumes": [{"name": "local-storage", "emptyDir": {}}],
        "volumeMounts": [{"name": "local-storage", "mountPath": LOCAL_STORAGE_PATH}],
        "disableMetric": True,  # no PodMonitor: the lab's Prometheus is outside the cluster (lab-mon01)
        **scheduling(k8s),
    }
    if env:
        components["env"] = env
    for name, size in k8s.components.items():
        component: dict[str, Any] = {
            "replicas": size.replicas,
            "resources": resources(size.memory_mb, size.cpu_millis),
        }
        if name == "proxy":
            # The operator's own Service stays ClusterIP: it has no field for a fixed node port or the
            # traffic policy, so clients outside the cluster come in through this program's Service.
            component["serviceType"] = "ClusterIP"
            if k8s.milvus_service.node is not None:
                # A component's nodeSelector replaces the shared one (zilliztech/milvus-operator
                # pkg/controllers/components.go MergeComponentSpec), so it carries the shared labels too.
                selector = {**k8s.node_selector, "kubernetes.io/hostname": k8s.milvus_service.node}
                component["nodeSelector"] = selector
        components[name] = component
    return components


def _dependencies(config: PlatformConfig, names: Names) -> dict[str, Any]:
    k8s = _k8s(config)
    deletion = _deletion(config)
    dependencies: dict[str, Any] = {
        "etcd": {"inCluster": {**deletion, "values": etcd_values(config)}},
        "storage": {
            "type": "MinIO",
            "secretRef": names.storage_secret,
            "inCluster": {**deletion, "values": minio_values(config, names)},
        },
        "msgStreamType": k8s.message_queue,
    }
    if k8s.message_queue == "pulsar":
        dependencies["pulsar"] = {
            "inCluster": {**deletion, "chartVersion": "pulsar-v3", "values": pulsar_values(config)}
        }
    else:
        dependencies["kafka"] = {"inCluster": {**deletion, "values": kafka_values(config)}}
    return dependencies


def milvus_config(config: PlatformConfig) -> dict[str, Any]:
    """`spec.config`: merged into Milvus's milvus.yaml by the operator. No credential is ever set here."""
    return {
        "common": {"security": {"authorizationEnabled": config.milvus.auth_enabled}},
        "minio": {
            "bucketName": config.minio.bucket,
            "rootPath": config.minio.root_path,
            "region": config.minio.region,
        },
        "localStorage": {"path": LOCAL_STORAGE_PATH},
    }


def milvus_resource(config: PlatformConfig, names: Names) -> dict[str, Any]:
    """The `Milvus` custom resource in cluster mode."""
    return {
        "apiVersion": upstream.MILVUS_API_VERSION,
        "kind": upstream.MILVUS_KIND,
        "metadata": metadata(names.instance, names.namespace, "milvus", config.stack),
        "spec": {
            "mode": "cluster",
            "components": _components(config, names),
            "dependencies": _dependencies(config, names),
            "config": milvus_config(config),
        },
    }


def proxy_service_port(config: PlatformConfig) -> int:
    """Where clients reach Milvus on the configured address (a NodePort, or gRPC's own port)."""
    service = _k8s(config).milvus_service
    if service.type == "NodePort" and service.node_port is not None:
        return service.node_port
    if service.type == "ClusterIP":
        return config.ports.milvus_grpc  # the local end of `kubectl port-forward`
    return MILVUS_GRPC_PORT
