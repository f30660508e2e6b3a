"""What every pod and container this platform writes for Kubernetes shares: names, labels, resources, and
the hardening of the Pod Security Standard "restricted" profile.

Pure functions returning plain dicts in the Kubernetes API's own spelling, so the same objects are
declared as pulumi-kubernetes resources, validated offline against the cluster version's OpenAPI
schemas (tests/kubernetes) and judged by the policy pack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.kubernetes.settings import KubernetesConfig
from components.kubernetes.upstream import (
    COMPONENT_LABEL,
    DEPENDENCY_POD_LABEL,
    MILVUS_POD_LABELS,
    MILVUS_SERVICE_SUFFIX,
    RELEASE_SUFFIXES,
)
from components.topology import ROLE_LABEL, STACK_LABEL

PART_OF = "milvus-platform"
MANAGED_BY = "pulumi"
# The `Milvus` resource's name: the operator names everything it creates after it.
INSTANCE = "milvus"


@dataclass(frozen=True)
class Names:
    """Names of what the operator and this program create for one Milvus instance in one namespace."""

    instance: str
    namespace: str

    def release(self, dependency: str) -> str:
        """The Helm release the operator installs for a dependency, e.g. milvus-etcd."""
        return f"{self.instance}-{RELEASE_SUFFIXES[dependency]}"

    def service_host(self, service: str) -> str:
        return f"{service}.{self.namespace}.svc"

    @property
    def milvus_service(self) -> str:
        return f"{self.instance}-{MILVUS_SERVICE_SUFFIX}"

    @property
    def storage_secret(self) -> str:
        """The operator forces an in-cluster MinIO's credentials Secret to this name."""
        return self.release("minio")

    @property
    def root_secret(self) -> str:
        return f"{self.instance}-root-credentials"

    @property
    def attu(self) -> str:
        return f"{self.instance}-attu"

    @property
    def backup(self) -> str:
        return f"{self.instance}-backup"

    @property
    def etcd_snapshot(self) -> str:
        """The etcd snapshot CronJob, its ConfigMap and NetworkPolicy."""
        return f"{self.instance}-etcd-snapshot"

    @property
    def etcd_snapshot_claim(self) -> str:
        """The PersistentVolumeClaim the snapshots are kept on."""
        return f"{self.instance}-etcd-snapshots"

    def milvus_pods(self, component: str | None = None) -> dict[str, str]:
        labels = {key: value.format(instance=self.instance) for key, value in MILVUS_POD_LABELS.items()}
        if component is not None:
            labels[COMPONENT_LABEL] = component
        return labels

    def dependency_pods(self, dependency: str) -> dict[str, str]:
        return {DEPENDENCY_POD_LABEL[dependency]: self.release(dependency)}


def names_for(config: KubernetesConfig) -> Names:
    return Names(INSTANCE, config.namespace)


def labels(role: str, stack: str) -> dict[str, str]:
    """Labels of every object this program writes; `role` is the same role label the Docker side uses."""
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/name": role,
        ROLE_LABEL: role,
        STACK_LABEL: stack,
    }


def selector(role: str) -> dict[str, str]:
    """The labels a Deployment or NetworkPolicy selects our own pods by (stable, never the stack)."""
    return {"app.kubernetes.io/part-of": PART_OF, ROLE_LABEL: role}


def metadata(name: str, namespace: str | None, role: str, stack: str, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels(role, stack), **extra}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


# The API server stores a quantity in its canonical spelling (k8s.io/apimachinery resource.Quantity
# `CanonicalizeBytes`: the largest binary suffix with a whole number, whole cores without `m`), and
# pulumi-kubernetes reads that back: "2048Mi" would come back "2Gi" and "1000m" "1", and every later
# `pulumi up` after a refresh would want to change them back (pulumi/pulumi-kubernetes#644). So the
# program writes the canonical spelling itself.
_BINARY_SUFFIXES = ("Mi", "Gi", "Ti", "Pi", "Ei")


def quantity_mb(megabytes: int) -> str:
    """`megabytes` MiB in the API server's canonical spelling: 1536 -> "1536Mi", 2048 -> "2Gi"."""
    value, suffix = megabytes, 0
    while value and value % 1024 == 0 and suffix < len(_BINARY_SUFFIXES) - 1:
        value, suffix = value // 1024, suffix + 1
    return f"{value}{_BINARY_SUFFIXES[suffix]}"


def quantity_cpu(millis: int) -> str:
    """`millis` millicores in the API server's canonical spelling: 1500 -> "1500m", 2000 -> "2"."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def resources(memory_mb: int, cpu_millis: int) -> dict[str, dict[str, str]]:
    """Requests equal limits: the node reserves what the container may use (QoS Guaranteed)."""
    amount = {"memory": quantity_mb(memory_mb), "cpu": quantity_cpu(cpu_millis)}
    return {"requests": dict(amount), "limits": dict(amount)}


# Pod Security Standard "restricted" (kubernetes.io/docs/concepts/security/pod-security-standards):
# no privilege escalation, every capability dropped, non-root, the runtime's default seccomp profile.
SECCOMP = {"type": "RuntimeDefault"}


def container_security(read_only_root: bool, run_as_user: int | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "seccompProfile": dict(SECCOMP),
    }
    if run_as_user is not None:
        context["runAsUser"] = run_as_user
    return context


def pod_security(run_as_user: int, run_as_group: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as_user,
        "runAsGroup": run_as_group,
        "seccompProfile": dict(SECCOMP),
    }


def scheduling(config: KubernetesConfig) -> dict[str, Any]:
    """nodeSelector and tolerations for a pod spec (or chart values that take the same shape)."""
    result: dict[str, Any] = {}
    if config.node_selector:
        result["nodeSelector"] = dict(config.node_selector)
    if config.tolerations:
        result["tolerations"] = [t.as_dict() for t in config.tolerations]
    return result


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """An env var read from a Secret by name: the value never appears in the object itself."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def plain_env(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": key, "value": value} for key, value in values.items()]
