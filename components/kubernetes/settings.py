"""`milvus-platform:kubernetes`: where and how big Milvus runs on a Kubernetes cluster, validated up front.

`parse_kubernetes(section, memory)` reads the `kubernetes` object through `config_reader.Section` (a
misspelt key is an error) and returns a frozen `KubernetesConfig`, or raises `ConfigError` naming the key,
the problem and what is accepted. It runs before any resource is declared, like every other section.

The shared keys keep their meaning on this target: `memoryMb.milvus` is the memory of each query node
(the component that holds the vectors), `memoryMb.etcd/minio/attu/backup` size those pods; every
Kubernetes memory request equals its limit (the scheduler reserves what the pod may use, and the pod is
never the first one evicted under node pressure).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from components.config_reader import ConfigError, Section, describe

# The Milvus 2.5 cluster-mode components this platform runs, in the operator's spelling (the `Milvus`
# CR's spec.components keys, zilliztech/milvus-operator apis/milvus.io/v1beta1/components_types.go at
# v1.3.8). mixCoord runs the four coordinators in one process, the operator's default for new clusters
# (config/samples/milvus_cluster_mixcoord.yaml). streamingNode exists only from Milvus 2.6.
COMPONENTS = ("proxy", "mixCoord", "queryNode", "dataNode", "indexNode")
QUERY_NODE = "queryNode"  # sized by the shared `memoryMb.milvus`


@dataclass(frozen=True)
class ComponentSize:
    replicas: int
    memory_mb: int
    cpu_millis: int


# Defaults per component; the query node's memory comes from `memoryMb.milvus`.
DEFAULT_COMPONENTS: Mapping[str, ComponentSize] = MappingProxyType(
    {
        "proxy": ComponentSize(replicas=1, memory_mb=2048, cpu_millis=1000),
        "mixCoord": ComponentSize(replicas=1, memory_mb=2048, cpu_millis=1000),
        "queryNode": ComponentSize(replicas=2, memory_mb=0, cpu_millis=4000),
        "dataNode": ComponentSize(replicas=1, memory_mb=4096, cpu_millis=2000),
        "indexNode": ComponentSize(replicas=1, memory_mb=4096, cpu_millis=2000),
    }
)
COMPONENT_MEMORY_MINIMUM_MB = 512
QUERY_NODE_MEMORY_MINIMUM_MB = 4096  # memoryMb.milvus's own minimum (components/config.py)
MAX_REPLICAS = 64

# Milvus 2.5 in cluster mode needs an external message queue: the operator supports Pulsar (its default
# for cluster mode) and Kafka (apis/milvus.io/v1beta1/milvus_webhook.go `setDefaultMsgStreamType` at
# v1.3.8); rocksmq and natsmq are standalone-only, and woodpecker needs Milvus 2.6 (docs/kubernetes.md).
MESSAGE_QUEUES = ("pulsar", "kafka")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
NODE_PORT_RANGE = (30000, 32767)  # the API server's default --service-node-port-range
TOLERATION_OPERATORS = ("Exists", "Equal")
TOLERATION_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

DEFAULT_NAMESPACE = "milvus-platform"
DEFAULT_OPERATOR_NAMESPACE = "milvus-operator"
DEFAULT_INGRESS_CLASS = "traefik"
# RKE2 installs its bundled ingress controller (rke2-traefik or rke2-ingress-nginx) in kube-system.
DEFAULT_INGRESS_NAMESPACE = "kube-system"
# etcdSnapshots: the volume of the etcd snapshot job (every snapshot of the `backup.etcdKeepDays` window).
DEFAULT_STORAGE_GB = MappingProxyType({"etcd": 10, "minio": 250, "messageQueue": 50, "etcdSnapshots": 10})
STORAGE_MINIMUM_GB = MappingProxyType({"etcd": 1, "minio": 10, "messageQueue": 10, "etcdSnapshots": 1})

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")
_CONTEXT = re.compile(r"^\S+$")


@dataclass(frozen=True)
class Toleration:
    key: str | None
    operator: str
    value: str | None
    effect: str | None

    def as_dict(self) -> dict[str, str]:
        raw = {"key": self.key, "operator": self.operator, "value": self.value, "effect": self.effect}
        return {k: v for k, v in raw.items() if v is not None}


@dataclass(frozen=True)
class IngressSettings:
    host: str  # the DNS name Attu is served at
    tls_secret: str  # an existing kubernetes.io/tls Secret in the platform namespace
    class_name: str
    controller_namespace: str  # where the ingress controller's pods run (NetworkPolicy source)


@dataclass(frozen=True)
class MilvusService:
    """How clients (and the machine running `pulumi up`) reach Milvus's gRPC port."""

    type: str
    address: str  # what clients connect to: a node or load-balancer address, 127.0.0.1 for port-forward
    node_port: int | None  # NodePort only
    # NodePort only: the node whose address clients use. The Service keeps client addresses
    # (externalTrafficPolicy Local, for the clientCidrs NetworkPolicy), so only a node running a proxy pod
    # answers; the proxies are scheduled there. That node is the one address clients know, so this costs
    # no availability the single address had not already lost.
    node: str | None = None


@dataclass(frozen=True)
class KubernetesConfig:
    context: str | None  # kubeconfig context; None: the provider's default (KUBECONFIG, current context)
    namespace: str
    operator_namespace: str
    storage_class: str | None  # None: the cluster's default StorageClass
    node_selector: Mapping[str, str]
    tolerations: tuple[Toleration, ...]
    ingress: IngressSettings
    message_queue: str
    milvus_service: MilvusService
    client_cidrs: tuple[str, ...]  # besides Attu and the backup job, who may reach Milvus
    components: Mapping[str, ComponentSize]
    storage_gb: Mapping[str, int]


# --------------------------------------------------------------------------------------------------
# One reader per concern.
# --------------------------------------------------------------------------------------------------


def _name(section: Section, name: str, default: str | None, pattern: re.Pattern[str], accepted: str) -> str:
    return section.matching(name, default, pattern, accepted)


def _node_selector(section: Section) -> dict[str, str]:
    value = section.get("nodeSelector")
    if value is None:
        return {}
    accepted = 'a mapping of node label to value, e.g. {"kubernetes.io/os": "linux"}'
    if not isinstance(value, Mapping):
        raise ConfigError(section.key("nodeSelector"), f"is {describe(value)}, not a mapping", accepted)
    result = {}
    for key, label in value.items():
        prefix, _, name = str(key).rpartition("/")
        if (prefix and not _DNS_SUBDOMAIN.match(prefix)) or not _LABEL_NAME.match(name):
            raise ConfigError(
                f"{section.key('nodeSelector')}.{key}", "is not a valid label key", "[prefix/]name"
            )
        if not isinstance(label, str) or not _LABEL_VALUE.match(label):
            raise ConfigError(
                f"{section.key('nodeSelector')}.{key}", f"is {describe(label)}, not a label value", accepted
            )
        result[str(key)] = label
    return result


def _tolerations(section: Section) -> tuple[Toleration, ...]:
    value = section.get("tolerations")
    if value is None:
        return ()
    accepted = "a list of {key, operator: Exists|Equal, value, effect: NoSchedule|PreferNoSchedule|NoExecute}"
    if not isinstance(value, list):
        raise ConfigError(section.key("tolerations"), f"is {describe(value)}, not a list", accepted)
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ConfigError(
                f"{section.key('tolerations')}[{index}]", f"is {describe(item)}, not an object", accepted
            )
        entry = Section(f"{section.key('tolerations')}[{index}]", item)
        operator = entry.string("operator", "Equal")
        if operator not in TOLERATION_OPERATORS:
            raise ConfigError(entry.key("operator"), f"is {describe(operator)}", "Exists or Equal")
        effect = entry.string("effect")
        if effect is not None and effect not in TOLERATION_EFFECTS:
            raise ConfigError(entry.key("effect"), f"is {describe(effect)}", " | ".join(TOLERATION_EFFECTS))
        key, toleration_value = entry.string("key"), entry.string("value")
        if operator == "Exists" and toleration_value is not None:
            raise ConfigError(entry.key("value"), "is set with operator Exists", "no value with Exists")
        if operator == "Equal" and key is None:
            raise ConfigError(entry.key("key"), "is missing with operator Equal", "the taint's key")
        entry.finish()
        result.append(Toleration(key, operator, toleration_value, effect))
    return tuple(result)


def _ingress(section: Section) -> IngressSettings:
    host = section.matching(
        "host", None, _HOST_NAME, "the DNS name Attu is served at, e.g. attu.lab.example.org"
    )
    settings = IngressSettings(
        host=host,
        tls_secret=_name(
            section,
            "tlsSecret",
            None,
            _DNS_SUBDOMAIN,
            "the name of a kubernetes.io/tls Secret with the host's certificate in the platform namespace",
        ),
        class_name=_name(section, "className", DEFAULT_INGRESS_CLASS, _DNS_SUBDOMAIN, "an IngressClass name"),
        controller_namespace=_name(
            section,
            "controllerNamespace",
            DEFAULT_INGRESS_NAMESPACE,
            _DNS_LABEL,
            "the namespace of the ingress controller's pods",
        ),
    )
    section.finish()
    return settings


def _milvus_service(section: Section) -> MilvusService:
    kind = section.string("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        raise ConfigError(section.key("type"), f"is {describe(kind)}", " | ".join(SERVICE_TYPES))
    node_port, node = section.get("nodePort"), section.get("node")
    if kind == "NodePort":
        low, high = NODE_PORT_RANGE
        node_port = section.required_integer("nodePort", low, high, "the fixed node port clients use")
        node = section.required("node", "the name of the node whose address clients use (kubectl get nodes)")
        if not _DNS_SUBDOMAIN.match(node):
            raise ConfigError(
                section.key("node"), f"is {describe(node)}", "a node name as `kubectl get nodes` lists it"
            )
    else:
        for key, value in (("nodePort", node_port), ("node", node)):
            if value is not None:
                raise ConfigError(section.key(key), f"is set with type {kind}", f"{key} only with NodePort")
    if kind == "ClusterIP":
        # Reached through `kubectl port-forward` on the machine that runs `pulumi up` and the tools.
        address = section.ip_address("address", "127.0.0.1")
    else:
        address = section.required(
            "address", f"the address clients use to reach the {kind} service (a node or load-balancer IP)"
        )
        if not _HOST_NAME.match(address):
            address = section.ip_address("address", address)
    section.finish()
    return MilvusService(type=kind, address=address, node_port=node_port, node=node)


def _client_cidrs(section: Section) -> tuple[str, ...]:
    networks = []
    for index, value in enumerate(section.strings("clientCidrs")):
        key = f"{section.key('clientCidrs')}[{index}]"
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError:
            raise ConfigError(key, f"is {describe(value)}", "a network such as 10.25.20.0/24") from None
        if network.prefixlen == 0:
            raise ConfigError(key, f"is {describe(value)}, every address", "the networks clients are on")
        networks.append(str(network))
    return tuple(networks)


def _components(section: Section, milvus_memory_mb: int) -> dict[str, ComponentSize]:
    result = {}
    for name in COMPONENTS:
        part = section.section(name)
        default = DEFAULT_COMPONENTS[name]
        if name == QUERY_NODE:
            # The shared key sizes the query node; setting it here too would say it twice.
            memory = milvus_memory_mb
            if part.get("memoryMb") is not None:
                raise ConfigError(
                    part.key("memoryMb"),
                    "is set, but the query node's memory is the shared `memoryMb.milvus`",
                    "memoryMb.milvus",
                )
        else:
            memory = part.integer(
                "memoryMb", default.memory_mb, COMPONENT_MEMORY_MINIMUM_MB, 1024 * 1024, " (MB)"
            )
        result[name] = ComponentSize(
            replicas=part.integer("replicas", default.replicas, 1, MAX_REPLICAS),
            memory_mb=memory,
            cpu_millis=part.integer("cpuMillis", default.cpu_millis, 100, 256_000, " (millicores)"),
        )
        part.finish()
    section.finish()
    return result


def _storage(section: Section) -> dict[str, int]:
    values = {
        name: section.integer(name, DEFAULT_STORAGE_GB[name], STORAGE_MINIMUM_GB[name], 64 * 1024, " (GB)")
        for name in DEFAULT_STORAGE_GB
    }
    section.finish()
    return values


def parse_kubernetes(section: Section, milvus_memory_mb: int) -> KubernetesConfig:
    """Validate `milvus-platform:kubernetes`; `milvus_memory_mb` is `memoryMb.milvus` (the query node's)."""
    context = section.string("context")
    if context is not None and not _CONTEXT.match(context):
        raise ConfigError(section.key("context"), f"is {describe(context)}", "a kubeconfig context name")
    queue = section.string("messageQueue", "pulsar")
    if queue not in MESSAGE_QUEUES:
        raise ConfigError(
            section.key("messageQueue"),
            f"is {describe(queue)}",
            "pulsar or kafka (what the Milvus Operator supports for Milvus 2.5 in cluster mode)",
        )
    storage_class = section.get("storageClass")
    config = KubernetesConfig(
        context=context,
        namespace=_name(section, "namespace", DEFAULT_NAMESPACE, _DNS_LABEL, "a DNS-1123 label"),
        operator_namespace=_name(
            section, "operatorNamespace", DEFAULT_OPERATOR_NAMESPACE, _DNS_LABEL, "a DNS-1123 label"
        ),
        storage_class=None
        if storage_class is None
        else _name(section, "storageClass", None, _DNS_SUBDOMAIN, "a StorageClass name, e.g. local-path"),
        node_selector=_node_selector(section),
        tolerations=_tolerations(section),
        ingress=_ingress(section.section("ingress")),
        message_queue=queue,
        milvus_service=_milvus_service(section.section("milvusService")),
        client_cidrs=_client_cidrs(section),
        components=_components(section.section("components"), milvus_memory_mb),
        storage_gb=_storage(section.section("storageGb")),
    )
    if config.namespace == config.operator_namespace:
        raise ConfigError(
            section.key("operatorNamespace"),
            f"is {describe(config.operator_namespace)}, the platform's own namespace",
            "a separate namespace: the operator's cluster-wide rights stay out of the data namespace",
        )
    section.finish()
    return config


def total_memory_mb(config: KubernetesConfig) -> int:
    """What the Milvus components may use together (requests = limits)."""
    return sum(size.replicas * size.memory_mb for size in config.components.values())
