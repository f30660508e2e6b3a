"""`MilvusCluster`: Milvus in cluster mode on Kubernetes through the Milvus Operator, and the program's
Kubernetes provider.

Thin on purpose: every object is built by a pure function (pods, milvus_cr, apps, etcd_snapshots,
network) and declared here, children named `f"{name}-..."`, the provider coming through `opts.providers`.
Dependencies the engine must respect: namespaces first; the operator's Helm release (which installs the
`Milvus` CRD) and both credential Secrets before the `Milvus` resource; the resource before Attu and the
backup and etcd snapshot jobs. With `protectData` the namespace, the operator release (uninstalling it
deletes the CRD and with it every `Milvus`), the `Milvus` resource and the etcd snapshots' claim are
protected and kept if removed from the program, and the operator keeps the dependencies' releases and
PersistentVolumeClaims when a `Milvus` is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.access.component import KUBERNETES_WAIT_S, endpoint_input
from components.config import PlatformConfig
from components.config_reader import Secret
from components.kubernetes import apps, etcd_snapshots, milvus_cr, network, upstream
from components.kubernetes.pods import Names, names_for
from components.kubernetes.settings import KubernetesConfig
from components.topology import MILVUS_GRPC_PORT, MILVUS_HTTP_PORT, MILVUS_ROOT_USER, MINIO_API_PORT

# The provider's logical name is fixed: a changed provider URN would replace every resource it manages.
KUBERNETES_PROVIDER_NAME = "kubernetes"
OPERATOR_RELEASE = "milvus-operator"


def kubernetes_provider(config: KubernetesConfig) -> k8s.Provider:
    """The one Kubernetes provider: the kubeconfig context when set, else the provider's default
    (KUBECONFIG or ~/.kube/config, its current context). Server-side apply is the provider's default."""
    return k8s.Provider(KUBERNETES_PROVIDER_NAME, context=config.context)


@dataclass
class MilvusClusterArgs:
    """The validated stack config (target kubernetes). The provider comes through `opts.providers`."""

    config: PlatformConfig


def _split(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A rendered object as keyword arguments of its pulumi-kubernetes class: top-level fields in Python
    spelling (`stringData` -> `string_data`); nested dicts pass through in the API's own spelling."""
    return {
        re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value
        for key, value in obj.items()
        if key not in ("apiVersion", "kind")
    }


class MilvusCluster(pulumi.ComponentResource):
    """Namespaces, the Milvus Operator, credentials, the `Milvus` resource, Attu, the backup and etcd
    snapshot jobs and the NetworkPolicies on one Kubernetes cluster."""

    milvus_uri: pulumi.Output[str]
    """gRPC endpoint for clients and for the machine running `pulumi up` (see `reached_by`)."""
    milvus_health_url: pulumi.Output[str]
    """Milvus's health endpoint, through `kubectl port-forward` (management port, never exposed)."""
    attu_url: pulumi.Output[str]
    """Attu behind the ingress, HTTPS."""
    minio_api_url: pulumi.Output[str]
    """MinIO's S3 API, inside the cluster only."""
    minio_root_user: pulumi.Output[str]
    """MinIO's root user."""
    minio_root_password: pulumi.Output[str]
    """MinIO's root password (secret)."""
    milvus_user: pulumi.Output[str] | None
    """Milvus's root user; None when authentication is off."""
    milvus_password: pulumi.Output[str] | None
    """Milvus's root password (secret); None when authentication is off."""
    reached_by: pulumi.Output[dict[str, Any]]
    """How the machine running `pulumi up` and the tools reach Milvus: context, namespaces, service, and
    the `kubectl port-forward` command (tools.restore drives the cluster through the same context)."""
    milvus: k8s.apiextensions.CustomResource
    """The `Milvus` custom resource."""
    access_endpoint: dict[str, Any]
    """How the machine running `pulumi up` reaches Milvus (components/access): `milvus_uri` directly (the
    NodePort/LoadBalancer address, or the port-forward of `reached_by` for ClusterIP), waiting for the
    operator to bring Milvus up."""
    milvus_ready: pulumi.Resource
    """Milvus is applied once this exists: the `Milvus` resource (the access resources then wait for it)."""

    def __init__(
        self, name: str, args: MilvusClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("milvus:kubernetes:MilvusCluster", name, None, opts)
        config = args.config
        if config.kubernetes is None:
            raise pulumi.RunError("MilvusCluster needs the `kubernetes` section")  # parse() prevents it
        k8s_config = config.kubernetes
        names = names_for(k8s_config)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(protect=config.protect_data, retain_on_delete=config.protect_data)
        kept = pulumi.ResourceOptions.merge(child, keep)

        platform_ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            **_split(apps.namespace(names.namespace, "platform", config.stack)),
            opts=kept,
        )
        operator_ns = k8s.core.v1.Namespace(
            f"{name}-operator-namespace",
            **_split(apps.namespace(k8s_config.operator_namespace, "operator", config.stack)),
            opts=child,
        )
        in_platform = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[platform_ns]))
        in_operator = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[operator_ns]))
        k8s.networking.v1.NetworkPolicy(
            f"{name}-operator-network-policy",
            **_split(network.operator_network_policy(config)),
            opts=in_operator,
        )
        operator = k8s.helm.v3.Release(
            f"{name}-operator",
            name=OPERATOR_RELEASE,
            chart=upstream.OPERATOR_CHART,
            version=upstream.OPERATOR_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=upstream.OPERATOR_CHART_REPO),
            namespace=k8s_config.operator_namespace,
            values=milvus_cr.operator_values(config),
            opts=pulumi.ResourceOptions.merge(in_operator, keep),
        )

        minio_password = self._password(name, "minio-root-password", config.minio.root_password)
        milvus_password = self._password(name, "milvus-root-password", config.milvus.root_password)
        storage_secret = k8s.core.v1.Secret(
            f"{name}-storage-secret",
            **_split(apps.storage_secret(config, names, config.minio.root_user, minio_password)),
            opts=in_platform,
        )
        secrets: list[pulumi.Resource] = [storage_secret]
        if config.milvus.auth_enabled:
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-root-secret",
                    **_split(apps.root_secret(config, names, milvus_password)),
                    opts=in_platform,
                )
            )
        for policy in network.network_policies(config, names):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-network-policy-{policy['metadata']['name']}", **_split(policy), opts=in_platform
            )

        resource = milvus_cr.milvus_resource(config, names)
        self.milvus = k8s.apiextensions.CustomResource(
            f"{name}-milvus",
            api_version=resource["apiVersion"],
            kind=resource["kind"],
            metadata=resource["metadata"],
            spec=resource["spec"],
            opts=pulumi.ResourceOptions.merge(
                kept, pulumi.ResourceOptions(depends_on=[platform_ns, operator, *secrets])
            ),
        )
        after_milvus = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.milvus]))

        k8s.apps.v1.Deployment(
            f"{name}-attu", **_split(apps.attu_deployment(config, names)), opts=after_milvus
        )
        k8s.core.v1.Service(
            f"{name}-attu-service", **_split(apps.attu_service(config, names)), opts=in_platform
        )
        k8s.networking.v1.Ingress(
            f"{name}-attu-ingress", **_split(apps.attu_ingress(config, names)), opts=in_platform
        )
        external = apps.milvus_external_service(config, names)
        if external is not None:
            k8s.core.v1.Service(f"{name}-milvus-external", **_split(external), opts=after_milvus)
        backup_files = k8s.core.v1.ConfigMap(
            f"{name}-backup-config", **_split(apps.backup_config_map(config, names)), opts=in_platform
        )
        k8s.batch.v1.CronJob(
            f"{name}-backup",
            **_split(apps.backup_cron_job(config, names)),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.milvus, backup_files, *secrets])
            ),
        )

        # etcd snapshots: the scheduler's etcd-snapshot job against the operator's etcd, onto a kept claim.
        snapshot_files = k8s.core.v1.ConfigMap(
            f"{name}-etcd-snapshot-config",
            **_split(etcd_snapshots.snapshot_config_map(config, names)),
            opts=in_platform,
        )
        snapshot_claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-etcd-snapshots",
            **_split(etcd_snapshots.snapshot_claim(config, names)),
            opts=pulumi.ResourceOptions.merge(in_platform, keep),
        )
        k8s.batch.v1.CronJob(
            f"{name}-etcd-snapshot",
            **_split(etcd_snapshots.snapshot_cron_job(config, names)),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.milvus, snapshot_files, snapshot_claim])
            ),
        )

        endpoints = endpoints_of(config, names)
        self.milvus_uri = pulumi.Output.from_input(endpoints["milvusUri"])
        self.milvus_health_url = pulumi.Output.from_input(endpoints["milvusHealthUrl"])
        self.attu_url = pulumi.Output.from_input(endpoints["attuUrl"])
        self.minio_api_url = pulumi.Output.from_input(endpoints["minioApiUrl"])
        self.reached_by = pulumi.Output.from_input(reached_by(config, names))
        self.minio_root_user = pulumi.Output.from_input(config.minio.root_user)
        self.minio_root_password = pulumi.Output.secret(minio_password)
        auth = config.milvus.auth_enabled
        self.milvus_user = pulumi.Output.from_input(MILVUS_ROOT_USER) if auth else None
        self.milvus_password = pulumi.Output.secret(milvus_password) if auth else None
        self.access_endpoint = endpoint_input(self.milvus_uri, wait_seconds=KUBERNETES_WAIT_S)
        self.milvus_ready = self.milvus
        self.register_outputs(
            {
                "milvus_uri": self.milvus_uri,
                "milvus_health_url": self.milvus_health_url,
                "attu_url": self.attu_url,
                "minio_api_url": self.minio_api_url,
                "reached_by": self.reached_by,
                "minio_root_user": self.minio_root_user,
                "minio_root_password": self.minio_root_password,
                "milvus_user": self.milvus_user,
                "milvus_password": self.milvus_password,
            }
        )

    def _password(self, name: str, key: str, given: Secret | None) -> pulumi.Output[str]:
        """The configured secret, or one generated once and kept in state (alphanumeric)."""
        if given is not None:
            return pulumi.Output.secret(given.value)
        generated = random.RandomPassword(
            f"{name}-{key}", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        return generated.result


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def port_forward_command(config: PlatformConfig, names: Names) -> str:
    """What forwards Milvus's gRPC and management ports to this machine (the tools' way in)."""
    k8s_config = config.kubernetes
    assert k8s_config is not None
    context = f" --context {k8s_config.context}" if k8s_config.context else ""
    ports = config.ports
    return (
        f"kubectl{context} -n {names.namespace} port-forward svc/{names.milvus_service} "
        f"{ports.milvus_grpc}:{MILVUS_GRPC_PORT} {ports.milvus_http}:{MILVUS_HTTP_PORT}"
    )


def endpoints_of(config: PlatformConfig, names: Names) -> dict[str, str]:
    """The stack outputs' URLs for this target (pure: the tests read them without Pulumi)."""
    k8s_config = config.kubernetes
    assert k8s_config is not None
    service = k8s_config.milvus_service
    return {
        "milvusUri": f"http://{_host(service.address)}:{milvus_cr.proxy_service_port(config)}",
        # The management port is never exposed: it is reached through the port-forward, like the Docker
        # target's 9091 through an SSH tunnel.
        "milvusHealthUrl": f"http://127.0.0.1:{config.ports.milvus_http}/healthz",
        "attuUrl": f"https://{k8s_config.ingress.host}",
        "minioApiUrl": f"http://{names.service_host(names.release('minio'))}:{MINIO_API_PORT}",
    }


def reached_by(config: PlatformConfig, names: Names) -> dict[str, Any]:
    k8s_config = config.kubernetes
    assert k8s_config is not None
    return {
        "context": k8s_config.context,
        "namespace": names.namespace,
        "operatorNamespace": k8s_config.operator_namespace,
        "service": names.milvus_service,
        "serviceType": k8s_config.milvus_service.type,
        "portForward": port_forward_command(config, names),
    }


def backup_schedule_output(config: PlatformConfig) -> dict[str, str | None]:
    """`backupSchedule`: the Docker target's shape and meaning (both CronJobs run these expressions in
    `timezone`); `offsite` is null, `backup.offsite` being refused on this target."""
    return config.backup.schedule_output()


def offsite_output(config: PlatformConfig) -> str:
    return (
        f"none configured: backups stay in the cluster's MinIO (bucket {config.minio.backup_bucket}) on the "
        "cluster's persistent volumes; target kubernetes has no off-site copy job yet (docs/kubernetes.md)"
    )
