"""docs/upstream.md lists every upstream fact the code relies on; this pins the code to it.

Each row of the facts tables has an id and the value the code uses. `FACTS` below computes that value from
the code, so changing either side alone fails here: a row without a computed value, a value without a row,
or a code value that differs from the documented one.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.dynamic.dynamic import serialize_provider

from components import services, topology
from components.access import operations as access_operations
from components.access import privileges as access_privileges
from components.access import provider as access_provider
from components.access.connection import Endpoint, tunnel_command
from components.backup import BACKUP_CONFIG_PATH
from components.backup.backup_yaml import render_backup_yaml
from components.cloud_init import HostKey, user_data
from components.config import (
    MILVUS_ROOT_PASSWORD_LENGTHS,
    MINIO_DEFAULT_CREDENTIAL,
    MINIO_ROOT_PASSWORD_MINIMUM,
    MINIO_ROOT_USER_MINIMUM,
    parse,
)
from components.host_keys import known_hosts_path, strict_ssh_options
from components.images import DEFAULT_IMAGES
from components.kubernetes import apps as k8s_apps
from components.kubernetes import etcd_snapshots, milvus_cr, upstream
from components.kubernetes.cluster import OPERATOR_RELEASE
from components.kubernetes.pods import Names, quantity_cpu, quantity_mb
from components.kubernetes.settings import MESSAGE_QUEUES
from components.provider_forms import canonical_duration, docker_capability
from components.proxmox_firewall import FIREWALL_PROBE_PORT
from components.proxmox_privileges import DEPLOY, POOL, SNIPPETS
from components.proxmox_vm import (
    DIAL_ERROR_LIMIT,
    PER_DIAL_TIMEOUT_S,
    TIMEOUT_CLONE_S,
    dial_budget,
    minutes,
    vm_args,
)
from components.service import REPLACE_ON_CHANGES, RESTART_POLICY, image_build
from components.services import backup_yaml_settings
from components.spec import ImageBuild
from components.vm_config import VmConfig
from policies import facts
from policies.catalog import POLICIES
from policies.common import CONTAINER, Resource
from policies.credentials import MINIO_FILE_VARIABLES, backup_setting
from policies.isolation_rules import SECCOMP_DEFAULT
from policies.network_rules import OPEN_GATEWAY_MODES
from policies.proxmox_rules import DEFAULT_INPUT_POLICY
from policies.readers import GO_TRUE, env_of, host_address, is_wildcard, milvus_key, parse_image
from tools import etcd_recovery, restore_kubectl
from tools.etcd_recovery import restore_pod
from tools.pulumi_mocks import LAB_HOST_PRIVATE_KEY, LAB_HOST_PUBLIC_KEY, load_stack_config
from tools.restore_kubectl import Cluster
from tools.verify import access as verify_access


def env_candidates(entries: list[str], name: str, default: str) -> tuple[str | None, ...]:
    container = Resource(CONTAINER, "c", "urn:c", {"envs": entries})
    return env_of(container).candidates(name, default).values


def backup_env_value(entry: str) -> str | None:
    container = Resource(CONTAINER, "c", "urn:c", {"envs": [entry]})
    return backup_setting(container, "MINIO_ACCESS_KEY", "minio.accessKeyID", "minioadmin").values()[0]


REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "upstream.md"
DOCKERFILE = (REPO / "backup" / "scheduler" / "Dockerfile").read_text()
CREDENTIALS = services.Credentials("user", "password", "password")
HOST_KEY = HostKey(LAB_HOST_PRIVATE_KEY, LAB_HOST_PUBLIC_KEY)


def spec(name: str) -> services.ServiceSpec:
    config = parse({})
    builders = {
        "etcd": lambda: services.etcd(config),
        "minio": lambda: services.minio(config, CREDENTIALS),
        "milvus": lambda: services.milvus(config, CREDENTIALS),
        "attu": lambda: services.attu(config),
        "backup": lambda: services.backup(config, CREDENTIALS),
    }
    return builders[name]()


def copied_from(stage: str, binary: str) -> str:
    """The path the scheduler's Dockerfile copies `binary` from in the image of stage `stage`."""
    for line in DOCKERFILE.splitlines():
        match = re.match(rf"COPY --from={stage} (.+) /usr/local/bin/", line)
        if match:
            return next(p for p in match.group(1).split() if p.endswith(f"/{binary}"))
    raise AssertionError(f"no COPY --from={stage}")


def backup_yaml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(render_backup_yaml(backup_yaml_settings(parse({}))))
    return document


def script(name: str) -> str:
    return (REPO / "backup" / "scheduler" / name).read_text()


def quoted_in(text: str, candidates: tuple[str, ...]) -> str:
    """The one candidate the script really matches on (as a quoted literal)."""
    found = [c for c in candidates if f"'{c}'" in text or f'"{c}"' in text]
    assert len(found) == 1, found
    return found[0]


def lab_vm() -> VmConfig:
    vm = parse(*load_stack_config("dev").namespace()).vm
    assert vm is not None
    return vm


def k8s_config() -> Any:
    return parse(*load_stack_config("k8s").namespace(), stack="k8s")


def k8s_etcd_cron_job() -> dict[str, Any]:
    return etcd_snapshots.snapshot_cron_job(k8s_config(), Names("milvus", "x"))


def deploy_privileges(path: str, dhcp: bool | None = None) -> list[str]:
    return sorted({n.privilege for n in DEPLOY if n.path == path and (dhcp is None or n.dhcp_only == dhcp)})


FACTS: dict[str, Callable[[], object]] = {
    # pulumi-docker / terraform-provider-docker
    "docker.healthcheck-duration": lambda: canonical_duration("90s"),
    "docker.capability-spelling": lambda: docker_capability("net_raw"),
    "docker.update-ignores": lambda: ", ".join(REPLACE_ON_CHANGES),
    "docker.legacy-builder": lambda: image_build(ImageBuild("backup/scheduler")).use_legacy_builder,
    "docker.build-paths": lambda: image_build(ImageBuild("backup/scheduler")).dockerfile,
    # moby
    "moby.restart-at-boot": lambda: RESTART_POLICY,
    # etcd
    "etcd.client-port": lambda: topology.ETCD_PORT,
    "etcd.health-probe": lambda: " ".join(spec("etcd").healthcheck.test[1:]),
    "etcd.tools-path": lambda: copied_from("etcd", "etcdctl"),
    # MinIO
    "minio.api-port": lambda: topology.MINIO_API_PORT,
    "minio.console-port": lambda: topology.MINIO_CONSOLE_PORT,
    "minio.health-probe": lambda: " ".join(spec("minio").healthcheck.test[1:]),
    "minio.mc-path": lambda: copied_from("minio", "mc"),
    "minio.default-credential": lambda: MINIO_DEFAULT_CREDENTIAL,
    "minio.root-user-minimum": lambda: MINIO_ROOT_USER_MINIMUM,
    "minio.root-password-minimum": lambda: MINIO_ROOT_PASSWORD_MINIMUM,
    # Milvus
    "milvus.grpc-port": lambda: topology.MILVUS_GRPC_PORT,
    "milvus.http-port": lambda: topology.MILVUS_HTTP_PORT,
    "milvus.health-probe": lambda: spec("milvus").healthcheck.test[-1],
    "milvus.root-password-env": lambda: next(
        f"common.security.{k}"
        for k in yaml.safe_load(services.milvus_user_yaml("m", "r"))["common"]["security"]
        if "RootPassword" in k
    ),
    "milvus.root-password-lengths": lambda: "{} to {}".format(*MILVUS_ROOT_PASSWORD_LENGTHS),
    # Attu
    "attu.port": lambda: topology.ATTU_PORT,
    # milvus-backup and mc
    "milvus-backup.version": lambda: DEFAULT_IMAGES.backup,
    "milvus-backup.config-path": lambda: BACKUP_CONFIG_PATH,
    "milvus-backup.api-port": lambda: topology.BACKUP_API_PORT,
    "milvus-backup.empty-credential-keys": lambda: ", ".join(
        k for k in ("accessKeyID", "secretAccessKey") if backup_yaml()["minio"].get(k) == ""
    ),
    "milvus-backup.inherited-credential-keys": lambda: ", ".join(
        k for k in ("backupAccessKeyID", "backupSecretAccessKey") if k not in backup_yaml()["minio"]
    ),
    "milvus-backup.log-file": lambda: json.dumps(backup_yaml()["log"]["file"]["filename"]),
    "milvus-backup.milvus-address": lambda: backup_yaml()["milvus"]["address"],
    "milvus-backup.create-success": lambda: quoted_in(
        script("milvus-backup-job.sh"), ("create backup success", "success")
    ),
    "milvus-backup.delete-done": lambda: quoted_in(
        script("milvus-backup-job.sh"), ("delete backup done", "success")
    ),
    "milvus-backup.list-header": lambda: re.search(
        r"/\^(>> Backups:)/", script("milvus-backup-job.sh")
    ).group(1),  # type: ignore[union-attr]
    "mc.make-bucket": lambda: re.search(r"set -- (mb --ignore-existing)", script("lib.sh")).group(1),  # type: ignore[union-attr]
    # Proxmox, cloud-init, SSH
    "proxmox.snippet-privileges": lambda: ", ".join(deploy_privileges(SNIPPETS)),
    "proxmox.vm-acl-path": lambda: POOL,
    "proxmox.guest-agent-privilege": lambda: "; ".join(
        f"{pve}: {', '.join(sorted(n.privilege for n in DEPLOY if n.dhcp_only and pve in n.pve))}"
        for pve in (8, 9)
    ),
    "proxmox.clone-retries": lambda: vm_args(lab_vm(), True)["clone"].retries,
    "proxmox.cloud-init-drive": lambda: vm_args(lab_vm(), True)["initialization"].interface,
    "proxmox.clone-timeout": lambda: TIMEOUT_CLONE_S,
    "proxmox.firewall-probe-port": lambda: FIREWALL_PROBE_PORT,
    "cloud-init.host-key": lambda: ", ".join(sorted(user_data(lab_vm(), HOST_KEY)["ssh_keys"])),
    "cloud-init.hostname": lambda: ", ".join(
        sorted(k for k in user_data(lab_vm(), HOST_KEY) if k in ("hostname", "fqdn", "manage_etc_hosts"))
    ),
    "pulumi-command.dial-budget": lambda: minutes(
        dial_budget(DIAL_ERROR_LIMIT, PER_DIAL_TIMEOUT_S).fast_failures_s
    ),
    "openssh.known-hosts": lambda: known_hosts_path("dev"),
    "openssh.no-fallback": lambda: next(
        o for o in strict_ssh_options("x") if o.startswith("KnownHostsCommand")
    ),
    # Kubernetes target
    "milvus-operator.chart-version": lambda: upstream.OPERATOR_CHART_VERSION,
    "milvus-operator.chart-repo": lambda: upstream.OPERATOR_CHART_REPO,
    "milvus-operator.crd": lambda: f"{upstream.MILVUS_API_VERSION} {upstream.MILVUS_KIND}",
    "milvus-operator.cluster-queues": lambda: ", ".join(MESSAGE_QUEUES),
    "milvus-operator.storage-secret": lambda: (
        f"{Names('milvus', 'x').storage_secret}: {', '.join(upstream.STORAGE_SECRET_KEYS)}"
    ),
    "milvus-operator.milvus-service": lambda: Names("milvus", "x").milvus_service,
    "milvus-operator.pod-labels": lambda: ", ".join(
        f"{k}={v}" for k, v in Names("milvus", "x").milvus_pods().items()
    ),
    "milvus-operator.non-root-uid": lambda: milvus_cr.MILVUS_UID,
    "milvus-helm.minio-existing-secret": lambda: next(
        k for k in milvus_cr.minio_values(k8s_config(), Names("milvus", "x")) if k == "existingSecret"
    ),
    "milvus-helm.etcd-image": lambda: "{repository}:{tag}".format(**upstream.ETCD_IMAGE),
    "milvus-helm.pulsar-image": lambda: "{repository}:{tag}".format(**upstream.PULSAR_IMAGE),
    "attu.writable-root": lambda: (
        "/app/build/env-config.js"
        if not k8s_apps.attu_deployment(k8s_config(), Names("milvus", "x"))["spec"]["template"]["spec"][
            "containers"
        ][0]["securityContext"]["readOnlyRootFilesystem"]
        else "read-only"
    ),
    "milvus-backup.binary-path": lambda: (
        "/app/milvus-backup" if k8s_apps.BACKUP_PATH.startswith("/app:") else ""
    ),
    "kubernetes.version": lambda: upstream.KUBERNETES_VERSION,
    # The pack and the secret files (issue 12)
    "moby.env-merge": lambda: "unset" if env_candidates(["NAME"], "NAME", "image") == (None,) else "kept",
    "docker.env-set": lambda: next(p.name for p in POLICIES if p.name == "container-env-unambiguous"),
    "moby.unparsed-host-ip": lambda: "[127.0.0.1] is every interface" if is_wildcard("[127.0.0.1]") else "no",
    "moby.mapped-host-ip": lambda: f"::ffff:10.0.0.1 -> {host_address('::ffff:10.0.0.1')}",
    "moby.no-new-privileges": lambda: ", ".join(GO_TRUE),
    "moby.seccomp-default": lambda: SECCOMP_DEFAULT,
    "moby.gateway-modes": lambda: ", ".join(OPEN_GATEWAY_MODES),
    "docker.reference-normalisation": lambda: parse_image("etcd").repository,
    "cis.sensitive-host-dirs": lambda: ", ".join(facts.CIS_SENSITIVE_HOST_DIRS),
    "kics.sensitive-host-dirs": lambda: ", ".join(facts.SENSITIVE_HOST_DIRS),
    "minio.credential-routes": lambda: " > ".join(
        ["MINIO_CONFIG_ENV_FILE"]
        + [v for v, target in reversed(MINIO_FILE_VARIABLES) if target == "MINIO_ROOT_PASSWORD"]
        + ["MINIO_ROOT_PASSWORD"]
    ),
    "minio.image-file-defaults": lambda: ", ".join(
        facts.MINIO_IMAGE_ENV[k]
        for k in ("MINIO_ROOT_USER_FILE", "MINIO_ROOT_PASSWORD_FILE", "MINIO_CONFIG_ENV_FILE")
    ),
    "minio.secret-files": lambda: services.MINIO_ROOT_PASSWORD_FILE,
    "milvus.env-spellings": lambda: milvus_key(
        "MILVUS_CONF_COMMON_SECURITY_AUTHORIZATION_ENABLED".removeprefix("MILVUS_CONF_")
    ),
    "milvus.config-files": lambda: ", ".join(facts.MILVUS_CONFIG_FILES),
    "milvus-backup.env-set-wins": lambda: json.dumps(backup_env_value("MINIO_ACCESS_KEY=")),
    "pve-firewall.input-policy": lambda: DEFAULT_INPUT_POLICY,
    # The Kubernetes target's etcd snapshots and tools (issue 14)
    "milvusdb-etcd.tools-dir": lambda: (
        upstream.ETCD_TOOLS_DIR
        if etcd_snapshots.ETCD_TOOLS_PATH.startswith(upstream.ETCD_TOOLS_DIR + ":")
        and etcd_snapshots.etcd_image() == "{repository}:{tag}".format(**upstream.ETCD_IMAGE)
        else ""
    ),
    "bitnami-etcd.client-service": lambda: etcd_snapshots.etcd_endpoint(Names("milvus", "<namespace>")),
    "pulumi-kubernetes.pvc-await": lambda: (
        "skipAwait annotation"
        if "annotations" in etcd_snapshots.snapshot_claim(k8s_config(), Names("milvus", "x"))["metadata"]
        else "no skipAwait annotation"
    ),
    "kubernetes.quantity-canonical": lambda: (
        f"2048Mi -> {quantity_mb(2048)}, 1536Mi -> {quantity_mb(1536)}, "
        f"1000m -> {quantity_cpu(1000)}, 1500m -> {quantity_cpu(1500)}"
    ),
    "kubernetes.job-name-label": lambda: restore_kubectl.JOB_NAME_LABEL,
    "etcdutl.status-json": lambda: ", ".join(restore_kubectl.SNAPSHOT_STATUS_FIELDS),
    "bitnami-etcd.member-data": lambda: (
        restore_pod(k8s_etcd_cron_job(), Cluster("x", None), 0)["spec"]["volumes"][0][
            "persistentVolumeClaim"
        ]["claimName"]
        + f" at {etcd_recovery.DATA_MOUNT}/{etcd_recovery.DATA_DIR}"
    ),
    "bitnami-etcd.peer-urls": lambda: (
        etcd_recovery.initial_cluster(Names("milvus", "<namespace>"), 1) + " " + etcd_recovery.CLUSTER_TOKEN
    ),
    "milvus-operator.deployments": lambda: (
        f"{etcd_recovery.OPERATOR_DEPLOYMENT if etcd_recovery.OPERATOR_DEPLOYMENT == OPERATOR_RELEASE else ''}; "
        + ",".join(f"{k}={v}" for k, v in Names("milvus", "x").milvus_pods().items())
    ),
    "attu.health-path": lambda: re.search(r"/api/v1/\w+", spec("attu").healthcheck.test[-1]).group(0),  # type: ignore[union-attr]
    # Milvus access (issue 13)
    "milvus.v1-privileges": lambda: ", ".join(
        f"{kind} {len(names)}" for kind, names in access_privileges.PRIVILEGES.items()
    ),
    "milvus.grant-api": lambda: grant_api(),
    "milvus.newer-privileges": lambda: ", ".join(sorted(access_privileges.NEWER_THAN_TEST_SERVER)),
    "milvus.name-rules": lambda: "users {}, roles and databases {}".format(
        *(longest_name(p) for p in (access_privileges.USER_NAME, access_privileges.NAME))
    ),
    "milvus.built-in-roles": lambda: ", ".join(access_privileges.BUILT_IN_ROLES),
    "milvus.public-role": lambda: ", ".join(sorted(verify_access.PUBLIC_PRIVILEGES)),
    "milvus.drop-role": lambda: first_then(
        access_operations.REVOKE, access_operations.DROP_ROLE, "revoke, then drop"
    ),
    "milvus.drop-database": lambda: first_then(
        access_operations.DROP_COLLECTIONS, access_operations.DROP_DATABASE, "drop collections, then database"
    ),
    "milvus.password-rotation": lambda: (
        "old password"
        if access_operations.Change(
            access_operations.CHANGE_PASSWORD, "u", password="n", old_password="o"
        ).inverse()
        == access_operations.Change(access_operations.CHANGE_PASSWORD, "u", password="o", old_password="n")
        else "none"
    ),
    "milvus.grants-by-database": lambda: (
        "database by database"
        if "for database in where" in inspect.getsource(access_operations.read_grants)
        else "one call"
    ),
    "milvus.permission-denied": lambda: re.search(  # type: ignore[union-attr]
        r"StatusCode\.(\w+)", inspect.getsource(verify_access.is_permission_denied)
    ).group(1),
    "pulumi.dynamic-type": lambda: access_provider.TYPES["Role"],
    "pulumi.dynamic-provider": lambda: re.findall(
        r"[a-z_.]+provider",
        base64.b64decode(serialize_provider(access_provider.RoleProvider())).decode("latin-1"),
    )[0],
    "pulumi.dynamic-secrets": lambda: ", ".join(access_provider.SECRET_OUTPUTS),
    "openssh.forward": lambda: next(
        o for o in tunnel_command(Endpoint("http://h:1", "ssh://u@h"), 2) if o.startswith("ExitOnForward")
    ),
}


def grant_api() -> str:
    source = inspect.getsource(access_operations._run)
    found = set(re.findall(r"client\.(grant_privilege\w*)", source))
    assert len(found) == 1, found
    return found.pop()


def longest_name(pattern: re.Pattern[str]) -> int:
    """1 + the upper bound of the pattern's repeated tail (`{0,31}` -> 32)."""
    match = re.search(r"\{0,(\d+)\}", pattern.pattern)
    assert match is not None
    return 1 + int(match.group(1))


def first_then(first: str, then: str, words: str) -> str:
    order = access_operations._ORDER
    return words if order.index(first) < order.index(then) else f"{then} before {first}"


ROW = re.compile(
    r"^\| `(?P<id>[a-z0-9.-]+)` \| (?P<fact>[^|]+) \| `(?P<value>[^`]*)` \| (?P<source>[^|]+) \| (?P<used>[^|]+) \|$"
)


def documented() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert match.group("id") not in rows, f"{match.group('id')} is listed twice"
            rows[match.group("id")] = match.group("value")
    return rows


def test_every_documented_fact_is_pinned_and_every_pin_documented() -> None:
    assert sorted(documented()) == sorted(FACTS)


@pytest.mark.parametrize("fact", sorted(FACTS))
def test_the_code_uses_the_documented_value(fact: str) -> None:
    assert str(FACTS[fact]()) == documented()[fact]


def test_every_row_names_a_source_and_a_place_in_the_code() -> None:
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert re.search(r"\w+/\w+", match.group("source")), line  # owner/repository
            assert re.search(r"(components|backup|tools|policies)/", match.group("used")), line


def test_the_repository_links_only_to_files_inside_it() -> None:
    """A user's clone has no shared/ directory beside it: docs and code point only inside the repository."""
    tracked = [p for p in REPO.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    offenders = [
        str(p.relative_to(REPO))
        for p in tracked
        if p.suffix in (".py", ".md", ".yml", ".yaml", ".sh")
        and "../" + "shared" in p.read_text(errors="ignore")
    ]
    assert offenders == []
