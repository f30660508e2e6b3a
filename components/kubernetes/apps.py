"""This program's own workloads on Kubernetes, as pure data: namespaces, Secrets, Attu behind the ingress,
the Service clients reach Milvus through, and milvus-backup as a CronJob.

The backup job is the Docker scheduler's `milvus-backup` job, unchanged: backup/scheduler/lib.sh and
milvus-backup-job.sh are mounted from a ConfigMap and run by the pinned milvus-backup image's own busybox
sh, so create -> check it is listed -> prune with `select_expired` (never the newest, never a backup named
by hand) is one script on both targets, and the schedule is the same cron expression in the same time zone
(CronJob `timeZone`). `concurrencyPolicy: Forbid` does what run-job.sh's lock does: a run never overlaps
the previous one. The job's record is the Job object itself (its status and logs), not a status file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi

from components.backup import BACKUP_CONFIG_PATH, MILVUS_BACKUP_PREFIX, SCHEDULER_CONTEXT
from components.backup.backup_yaml import render_backup_yaml
from components.config import PlatformConfig
from components.kubernetes.milvus_cr import ROOT_PASSWORD_KEY, ROOT_USER_KEY
from components.kubernetes.pods import (
    Names,
    container_security,
    metadata,
    plain_env,
    pod_security,
    resources,
    scheduling,
    secret_env,
    selector,
)
from components.kubernetes.settings import KubernetesConfig
from components.kubernetes.upstream import STORAGE_SECRET_KEYS
from components.services import backup_yaml_settings
from components.topology import (
    ATTU_PORT,
    MILVUS_GRPC_PORT,
    MILVUS_ROOT_USER,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# The scheduler's scripts the CronJob runs, read from the repository at `pulumi up`.
BACKUP_SCRIPTS = ("lib.sh", "milvus-backup-job.sh")
SCRIPTS_MOUNT = "/app/scheduler"
CONFIG_MOUNT = str(Path(BACKUP_CONFIG_PATH).parent)  # /app/configs
# The milvus-backup image keeps its binary at /app/milvus-backup (Dockerfile at v0.5.16); the scheduler
# image links it into /usr/local/bin, which a read-only root cannot, so /app goes on the PATH instead.
BACKUP_PATH = "/app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NON_ROOT_UID = 65532
# zilliztech/attu Dockerfile: node:22-slim, files group 0 with g=u "so the image supports arbitrary user
# ids"; its start command (client/public/env.sh) rewrites /app/build/env-config.js, so the root
# filesystem stays writable. uid 1000 is node:22-slim's `node` user.
ATTU_UID = 1000
ATTU_GID = 0
BACKUP_CPU_MILLIS = 500
ATTU_CPU_MILLIS = 500
# A backup that runs this long has hung: the Job is failed (and its pod stopped) instead.
BACKUP_DEADLINE_S = 6 * 3600

# Pod Security Standards: every namespace enforces `baseline` (no privileged pods, host namespaces or
# hostPath) and warns and audits at `restricted`. Enforcing `restricted` would refuse the dependency pods
# the operator's charts render (the Pulsar chart sets fsGroup 0 and drops no capability).
PSS_LABELS = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}


def namespace(name: str, role: str, stack: str) -> dict[str, Any]:
    meta = metadata(name, None, role, stack)
    meta["labels"] |= PSS_LABELS
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def secret(
    name: str, namespace_: str, role: str, stack: str, values: dict[str, pulumi.Input[str]]
) -> dict[str, Any]:
    """A Secret from Pulumi secrets (`stringData`); pulumi-kubernetes keeps `stringData` and `data` secret."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(name, namespace_, role, stack),
        "type": "Opaque",
        "stringData": values,
    }


def storage_secret(
    config: PlatformConfig, names: Names, access_key: pulumi.Input[str], secret_key: pulumi.Input[str]
) -> dict[str, Any]:
    access, secret_ = STORAGE_SECRET_KEYS
    return secret(
        names.storage_secret,
        names.namespace,
        "minio",
        config.stack,
        {access: access_key, secret_: secret_key},
    )


def root_secret(config: PlatformConfig, names: Names, password: pulumi.Input[str]) -> dict[str, Any]:
    return secret(
        names.root_secret,
        names.namespace,
        "milvus",
        config.stack,
        {ROOT_USER_KEY: MILVUS_ROOT_USER, ROOT_PASSWORD_KEY: password},
    )


def _k8s(config: PlatformConfig) -> KubernetesConfig:
    if config.kubernetes is None:
        raise ValueError("target kubernetes needs the `kubernetes` section")
    return config.kubernetes


# --------------------------------------------------------------------------------------------------
# Attu
# --------------------------------------------------------------------------------------------------


def attu_deployment(config: PlatformConfig, names: Names) -> dict[str, Any]:
    k8s = _k8s(config)
    probe = {"httpGet": {"path": "/api/v1/healthy", "port": "http"}, "periodSeconds": 30, "timeoutSeconds": 5}
    container = {
        "name": "attu",
        "image": config.images.attu,
        "imagePullPolicy": "IfNotPresent",
        "env": plain_env(
            {
                "MILVUS_URL": f"{names.service_host(names.milvus_service)}:{MILVUS_GRPC_PORT}",
                "HOME": "/tmp",  # yarn writes its own files below HOME
            }
        ),
        "ports": [{"name": "http", "containerPort": ATTU_PORT, "protocol": "TCP"}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 30},
        "resources": resources(config.memory.attu, ATTU_CPU_MILLIS),
        "securityContext": container_security(False, ATTU_UID),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(names.attu, names.namespace, "attu", config.stack),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector("attu")},
            "template": {
                "metadata": {"labels": {**selector("attu"), "app.kubernetes.io/name": "attu"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(ATTU_UID, ATTU_GID),
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
                    **scheduling(k8s),
                },
            },
        },
    }


def attu_service(config: PlatformConfig, names: Names) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(names.attu, names.namespace, "attu", config.stack),
        "spec": {
            "type": "ClusterIP",
            "selector": selector("attu"),
            "ports": [{"name": "http", "port": ATTU_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def attu_ingress(config: PlatformConfig, names: Names) -> dict[str, Any]:
    """Attu behind the cluster's ingress controller (Traefik in the lab), HTTPS only, with the host's
    certificate from an existing TLS Secret."""
    ingress = _k8s(config).ingress
    meta = metadata(names.attu, names.namespace, "attu", config.stack)
    meta["annotations"] = {
        # Traefik: serve this router on the TLS entrypoint only (traefik.io, Kubernetes Ingress annotations).
        "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
        "traefik.ingress.kubernetes.io/router.tls": "true",
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "ingressClassName": ingress.class_name,
            "tls": [{"hosts": [ingress.host], "secretName": ingress.tls_secret}],
            "rules": [
                {
                    "host": ingress.host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": names.attu, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def milvus_external_service(config: PlatformConfig, names: Names) -> dict[str, Any] | None:
    """The Service clients outside the cluster use, when `milvusService.type` asks for one (None for
    ClusterIP: then `kubectl port-forward` reaches the operator's own Service). `externalTrafficPolicy:
    Local` keeps the client's source address, which the Milvus NetworkPolicy's clientCidrs match."""
    service = _k8s(config).milvus_service
    if service.type == "ClusterIP":
        return None
    port: dict[str, Any] = {
        "name": "grpc",
        "port": MILVUS_GRPC_PORT,
        "targetPort": MILVUS_GRPC_PORT,
        "protocol": "TCP",
    }
    if service.node_port is not None:
        port["nodePort"] = service.node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(f"{names.milvus_service}-external", names.namespace, "milvus", config.stack),
        "spec": {
            "type": service.type,
            "externalTrafficPolicy": "Local",
            "selector": names.milvus_pods("proxy"),
            "ports": [port],
        },
    }


# --------------------------------------------------------------------------------------------------
# milvus-backup
# --------------------------------------------------------------------------------------------------


def backup_scripts(root: Path = REPO_ROOT, names: Sequence[str] = BACKUP_SCRIPTS) -> dict[str, str]:
    """The scheduler's scripts by file name, read from the repository."""
    return {name: (root / SCHEDULER_CONTEXT / name).read_text() for name in names}


def backup_config_map(config: PlatformConfig, names: Names) -> dict[str, Any]:
    """backup.yaml (no credentials in it) and the job scripts, in one ConfigMap."""
    data = {
        Path(BACKUP_CONFIG_PATH).name: render_backup_yaml(
            backup_yaml_settings(
                config,
                milvus_host=names.service_host(names.milvus_service),
                minio_host=names.service_host(names.release("minio")),
            )
        )
    }
    data |= backup_scripts()
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(names.backup, names.namespace, "backup", config.stack),
        "data": data,
    }


def backup_environment(config: PlatformConfig, names: Names) -> list[dict[str, Any]]:
    access, secret_ = STORAGE_SECRET_KEYS
    env = plain_env(
        {
            "PATH": BACKUP_PATH,
            "BACKUP_CONFIG": BACKUP_CONFIG_PATH,
            "MILVUS_KEEP_DAYS": str(config.backup.milvus_keep_days),
            "MILVUS_BACKUP_PREFIX": MILVUS_BACKUP_PREFIX,
            "MILVUS_AUTHORIZATION_ENABLED": "true" if config.milvus.auth_enabled else "false",
            # A SET env wins over backup.yaml in milvus-backup v0.5.16: never empty, the same values.
            "MINIO_BACKUP_BUCKET_NAME": config.minio.backup_bucket,
            "MINIO_BACKUP_ROOT_PATH": config.minio.backup_root_path,
        }
    )
    env.append(secret_env("MINIO_ACCESS_KEY", names.storage_secret, access))
    env.append(secret_env("MINIO_SECRET_KEY", names.storage_secret, secret_))
    if config.milvus.auth_enabled:
        env.append(secret_env("MILVUS_USER", names.root_secret, ROOT_USER_KEY))
        env.append(secret_env("MILVUS_PASSWORD", names.root_secret, ROOT_PASSWORD_KEY))
    return env


def backup_cron_job(config: PlatformConfig, names: Names) -> dict[str, Any]:
    k8s = _k8s(config)
    container = {
        "name": "milvus-backup",
        "image": config.images.backup,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", f"{SCRIPTS_MOUNT}/milvus-backup-job.sh"],
        "env": backup_environment(config, names),
        "resources": resources(config.memory.backup, BACKUP_CPU_MILLIS),
        "securityContext": container_security(True, NON_ROOT_UID),
        "volumeMounts": [
            {"name": "scripts", "mountPath": SCRIPTS_MOUNT, "readOnly": True},
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    scripts = [{"key": name, "path": name} for name in BACKUP_SCRIPTS]
    config_file = [{"key": Path(BACKUP_CONFIG_PATH).name, "path": Path(BACKUP_CONFIG_PATH).name}]
    pod = {
        "metadata": {"labels": {**selector("backup"), "app.kubernetes.io/name": "backup"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": pod_security(NON_ROOT_UID, NON_ROOT_UID),
            "containers": [container],
            "volumes": [
                {
                    "name": "scripts",
                    "configMap": {"name": names.backup, "items": scripts, "defaultMode": 0o555},
                },
                {
                    "name": "config",
                    "configMap": {"name": names.backup, "items": config_file, "defaultMode": 0o444},
                },
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
            **scheduling(k8s),
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(names.backup, names.namespace, "backup", config.stack),
        "spec": {
            "schedule": config.backup.milvus_schedule,
            "timeZone": config.backup.time_zone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "jobTemplate": {
                "metadata": {"labels": selector("backup")},
                # A failed backup is reported, not retried blindly (the Docker scheduler does the same).
                "spec": {"backoffLimit": 0, "activeDeadlineSeconds": BACKUP_DEADLINE_S, "template": pod},
            },
        },
    }
