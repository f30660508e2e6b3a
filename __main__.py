"""milvus-platform: the lab's Milvus platform on a Docker host (local, SSH, or a Proxmox VM it provisions) or,
in cluster mode, on a Kubernetes cluster through the Milvus Operator."""

import pulumi

from components import config as platform_config
from components.access.component import MilvusAccess, MilvusAccessArgs, docker_ssh_route
from components.docker_host import DockerHost
from components.kubernetes.cluster import (
    MilvusCluster,
    MilvusClusterArgs,
    backup_schedule_output,
    kubernetes_provider,
    offsite_output,
)
from components.platform import MilvusPlatform, MilvusPlatformArgs

# 1. One validated config; a bad value stops here, before any resource exists.
config = platform_config.from_pulumi()

if config.target == "kubernetes" and config.kubernetes is not None:
    # 2. Where: the cluster, through one Kubernetes provider. 3. What: operator, Milvus, Attu, backups.
    provider = kubernetes_provider(config.kubernetes)
    cluster = MilvusCluster(
        "milvus", MilvusClusterArgs(config=config), opts=pulumi.ResourceOptions(providers=[provider])
    )
    # 4. How to reach it: the same outputs as on Docker; what has no counterpart here is null.
    pulumi.export("milvusUri", cluster.milvus_uri)
    pulumi.export("milvusHealthUrl", cluster.milvus_health_url)
    pulumi.export("attuUrl", cluster.attu_url)
    pulumi.export("minioApiUrl", cluster.minio_api_url)
    pulumi.export("minioConsoleUrl", None)  # the operator's MinIO chart fixes no console port
    pulumi.export("kubernetes", cluster.reached_by)  # where tools.restore and the port-forward go
    pulumi.export("backupApiUrl", None)  # backups run as a CronJob: no milvus-backup server
    pulumi.export("backupSchedule", backup_schedule_output(config))
    pulumi.export("offsiteBackup", offsite_output(config))
    pulumi.export("minioRootUser", cluster.minio_root_user)
    pulumi.export("minioRootPassword", cluster.minio_root_password)
    if cluster.milvus_user is not None:
        pulumi.export("milvusUser", cluster.milvus_user)
        pulumi.export("milvusPassword", cluster.milvus_password)
    running: MilvusCluster | MilvusPlatform = cluster
else:
    # 2. Where the containers run.
    host = DockerHost.for_target(config)

    # 3. What runs there.
    platform = MilvusPlatform(
        "milvus",
        MilvusPlatformArgs(config=config, ssh_route=docker_ssh_route(config, host.url)),
        opts=pulumi.ResourceOptions(providers=[host.provider]),
    )

    # 4. How to reach it. Passwords only as secrets.
    pulumi.export("milvusUri", platform.milvus_uri)
    pulumi.export("milvusHealthUrl", platform.milvus_health_url)
    pulumi.export("attuUrl", platform.attu_url)
    pulumi.export("minioApiUrl", platform.minio_api_url)
    pulumi.export("minioConsoleUrl", platform.minio_console_url)
    pulumi.export("dockerHost", host.url)  # where tools.restore runs `docker exec`
    pulumi.export("dockerHostKnownHosts", host.known_hosts)  # the pinned host key tools.restore checks
    pulumi.export("backupApiUrl", platform.backup_api_url)
    pulumi.export("backupSchedule", config.backup.schedule_output())
    pulumi.export("offsiteBackup", config.backup.offsite_output())
    pulumi.export("minioRootUser", platform.minio_root_user)
    pulumi.export("minioRootPassword", platform.minio_root_password)
    if platform.milvus_user is not None:
        pulumi.export("milvusUser", platform.milvus_user)
        pulumi.export("milvusPassword", platform.milvus_password)
    running = platform

# 5. Who may do what in Milvus, the same on every target: root's password as the stack says, databases,
#    roles, users (only with authentication on; the config refuses `milvus.access` without it).
if running.milvus_password is not None:
    access = MilvusAccess(
        "milvus-access",
        MilvusAccessArgs(
            access=config.milvus.access,
            endpoint=running.access_endpoint,
            milvus_uri=running.milvus_uri,
            root_password=running.milvus_password,
            ready=[running.milvus_ready],
        ),
    )
    pulumi.export("milvusAccess", access.summary)  # no passwords: databases, roles and grants, users
    for user, login in access.logins.items():
        pulumi.export(f"milvusLogin_{user}", login)  # secret: uri, user, password to hand over
