"""The real __main__.py under Pulumi's mocks, for every stack: the declared graph, hardening, wiring, secrets."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from typing import Any

import pytest
import yaml

from components.backup import BACKUP_CONFIG_PATH
from components.config_reader import ConfigError
from components.topology import ROLE_LABEL
from tools.pulumi_mocks import Declared, Program, ProgramFailed, run_program

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
SERVICE = "milvus:platform:Service"
PLATFORM = "milvus:platform:MilvusPlatform"
DOCKER_PROVIDER = "pulumi:providers:docker"

CONTAINER_NAMES = {
    "etcd": "milvus-etcd",
    "minio": "milvus-minio",
    "milvus": "milvus-standalone",
    "attu": "milvus-attu",
    "backup": "milvus-backup",
    "backup-scheduler": "milvus-backup-scheduler",
}
DOCKER_STACKS = ["local", "dev"]


@pytest.fixture(scope="module", params=DOCKER_STACKS)
def program(request: pytest.FixtureRequest) -> Program:
    return run_program(request.param)


def env(container: Declared) -> dict[str, str]:
    return dict(item.split("=", 1) for item in container.inputs["envs"])


def uploaded(container: Declared) -> dict[str, str]:
    """The files uploaded into the container before start, by path."""
    return {u["file"]: u["content"] for u in container.inputs.get("uploads") or []}


def secret_paths(value: Any, path: str = "") -> set[str]:
    """Where inside a resource's wire inputs a secret sits (`uploads[1].content`)."""
    from tools.pulumi_mocks import SECRET_SIG, SIG_KEY

    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return {path}
        return {p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)}
    if isinstance(value, list):
        return {p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")}
    return set()


def role(container: Declared) -> str:
    return next(label["value"] for label in container.inputs["labels"] if label["label"] == ROLE_LABEL)


def containers(program: Program) -> dict[str, Declared]:
    """Containers by role."""
    return {role(c): c for c in program.of_type(CONTAINER)}


def service_key(resource: Declared) -> str:
    """The role of a Service component (`milvus-<role>`) or of its image/container children."""
    return resource.name.removeprefix("milvus-").removesuffix("-image").removesuffix("-container")


def test_declares_the_platform_once(program: Program) -> None:
    counts = Counter(r.type for r in program.resources)
    assert counts[CONTAINER] == counts[IMAGE] == counts[SERVICE] == 6
    assert counts[NETWORK] == 1 and counts[VOLUME] == 5 and counts[PLATFORM] == 1
    assert counts[DOCKER_PROVIDER] == 1
    platform = program.of_type(PLATFORM)[0]
    generated = [
        r for r in program.of_type("random:index/randomPassword:RandomPassword") if r.parent == platform.urn
    ]
    assert len(generated) == 2  # (the access component generates its users' own: tests/access)
    # The generator's inputs, not the mock's result: 32 characters of letters and digits (no specials,
    # which would need quoting in env files and URLs), for MinIO's root and Milvus's root.
    passwords = {r.name: r.inputs for r in generated}
    assert passwords == {
        "milvus-minio-root-password": {"length": 32, "special": False},
        "milvus-milvus-root-password": {"length": 32, "special": False},
    }
    assert {c.inputs["name"] for c in program.of_type(CONTAINER)} == set(CONTAINER_NAMES.values())
    for name, container in containers(program).items():
        assert container.inputs["name"] == CONTAINER_NAMES[name] and role(container) == name


def test_every_docker_resource_uses_the_one_provider_and_is_parented(program: Program) -> None:
    provider = program.of_type(DOCKER_PROVIDER)[0]
    platform = program.of_type(PLATFORM)[0]
    for resource in program.resources:
        if resource.type.startswith("docker:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.urn
        if resource.type in (CONTAINER, IMAGE):
            assert program.by_urn(resource.parent).type == SERVICE
            # Children are named after their component: milvus-etcd -> milvus-etcd-image/-container.
            assert resource.name.startswith(program.by_urn(resource.parent).name + "-")
        if resource.type in (SERVICE, NETWORK, VOLUME):
            assert resource.parent == platform.urn, resource.urn


@pytest.mark.parametrize("name", list(CONTAINER_NAMES))
def test_every_container_has_the_shared_hardening(program: Program, name: str) -> None:
    c = containers(program)[name].inputs
    assert c["memory"] >= 256 and c["memorySwap"] == c["memory"]
    assert c["cpuShares"] >= 256
    # Back after a host reboot whatever the exit code of the clean shutdown (components/service.py).
    assert c["restart"] == "unless-stopped" and "maxRetryCount" not in c
    assert c["logDriver"] == "json-file" and c["logOpts"] == {"max-size": "50m", "max-file": "5"}
    assert c["securityOpts"] == ["no-new-privileges:true"]
    # In the engine's spelling, sorted: the provider reads capabilities back that way (ForceNew).
    assert c["capabilities"] == {"drops": ["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"]}
    for absent in (
        "privileged",
        "networkMode",
        "pidMode",
        "ipcMode",
        "usernsMode",
        "devices",
        "mounts",
        "user",
    ):
        assert not c.get(absent), absent
    assert c["networksAdvanced"] == [{"name": "milvus-platform", "aliases": [name]}]
    assert c["healthcheck"]["tests"][0] == "CMD" and c["healthcheck"]["retries"] >= 1
    assert c["wait"] is True and c["waitTimeout"] >= 60
    assert ":" in c["image"] and not c["image"].endswith(":latest")
    for port in c.get("ports") or []:
        assert port["ip"] and not ipaddress.ip_address(port["ip"]).is_unspecified
        assert port["external"] >= 1024 and port["protocol"] == "tcp"


def test_images_are_pulled_in_parallel_and_kept(program: Program) -> None:
    images = {service_key(i): i for i in program.of_type(IMAGE)}
    for name, container in containers(program).items():
        image = images[name]
        assert image.inputs["name"] == container.inputs["image"] and image.inputs["keepLocally"] is True
        assert image.urn in container.dependencies
        assert not image.dependencies  # nothing orders the pulls
        assert ("build" in image.inputs) == (name == "backup-scheduler")


def test_the_scheduler_image_is_built_from_the_pinned_images(program: Program) -> None:
    image = program.one(IMAGE, "milvus-backup-scheduler-image")
    build = image.inputs["build"]
    # Built by the target's engine (legacy builder: the context travels through the provider's client),
    # from paths relative to the project directory, so every checkout plans the same inputs.
    assert (build["context"], build["dockerfile"]) == ("backup/scheduler", "backup/scheduler/Dockerfile")
    assert build["useLegacyBuilder"] is True
    assert build["buildArgs"] == {
        "BACKUP_IMAGE": "milvusdb/milvus-backup:v0.5.16",
        "ETCD_IMAGE": "quay.io/coreos/etcd:v3.5.18",
        "MINIO_IMAGE": "minio/minio:RELEASE.2024-05-28T17-19-04Z",
    }
    # The tag follows the milvus-backup version and a hash of the build context, so edits rebuild it.
    assert image.inputs["name"].startswith("milvus-platform/backup-scheduler:v0.5.16-")


def test_health_checks_use_binaries_the_images_contain(program: Program) -> None:
    tests = {name: c.inputs["healthcheck"]["tests"] for name, c in containers(program).items()}
    assert tests["etcd"] == ["CMD", "etcdctl", "endpoint", "health"]  # distroless: no shell, no curl
    assert tests["minio"] == ["CMD", "mc", "ready", "local"]  # no curl since late 2023
    assert tests["milvus"][:2] == ["CMD", "curl"] and tests["milvus"][-1] == "http://localhost:9091/healthz"
    assert tests["attu"][:3] == ["CMD", "node", "-e"] and "/api/v1/healthy" in tests["attu"][3]
    assert tests["backup"][:2] == ["CMD", "curl"] and tests["backup"][-1].endswith(":8080/api/v1/hello")
    assert tests["backup-scheduler"] == ["CMD", "/app/scheduler/healthcheck.sh"]


def published(program: Program) -> dict[str, set[tuple[int, int, str]]]:
    return {
        name: {(p["internal"], p["external"], p["ip"]) for p in c.inputs.get("ports") or []}
        for name, c in containers(program).items()
    }


def test_only_the_ports_each_role_needs_on_the_right_address(program: Program) -> None:
    on_vm = program.config.values["milvus-platform:target"] == "proxmox"
    publish = "10.25.20.20" if on_vm else "127.0.0.1"  # the dev stack's new VM address, by default
    ports = published(program)
    assert ports["etcd"] == ports["backup"] == ports["backup-scheduler"] == set()
    assert ports["milvus"] == {(19530, 19530, publish), (9091, 9091, "127.0.0.1")}
    assert ports["minio"] == {(9000, 9000, publish), (9001, 9001, "127.0.0.1")}
    assert ports["attu"] == {(3000, 8000, publish)}


def test_start_order_comes_from_health(program: Program) -> None:
    by_name = containers(program)
    needs = {
        name: {role(program.by_urn(u)) for u in c.dependencies if program.by_urn(u).type == CONTAINER}
        for name, c in by_name.items()
    }
    assert needs == {
        "etcd": set(),
        "minio": set(),
        "milvus": {"etcd", "minio"},
        "attu": {"milvus"},
        "backup": {"milvus", "minio", "backup-scheduler"},  # the scheduler made the backup bucket
        "backup-scheduler": {"etcd", "minio", "milvus"},
    }
    assert all(c.inputs["wait"] for c in by_name.values())


def test_milvus_is_wired_to_etcd_and_minio_with_minios_credentials(program: Program) -> None:
    by_name = containers(program)
    minio, milvus = env(by_name["minio"]), env(by_name["milvus"])
    # Secrets come as uploaded files, not env (docker inspect shows env): MinIO's *_FILE, Milvus's user.yaml.
    files = uploaded(by_name["minio"])
    minio_user, minio_password = (
        files[minio["MINIO_ROOT_USER_FILE"]],
        files[minio["MINIO_ROOT_PASSWORD_FILE"]],
    )
    user_yaml = yaml.safe_load(uploaded(by_name["milvus"])["/milvus/configs/user.yaml"])
    assert minio_user == milvus["MINIO_ACCESS_KEY_ID"] != "minioadmin"
    assert minio_password == user_yaml["minio"]["secretAccessKey"]
    assert len(minio_password) >= 8 and "MINIO_ACCESS_KEY" not in minio and "MINIO_ROOT_PASSWORD" not in minio
    assert milvus["ETCD_ENDPOINTS"] == "milvus-etcd:2379" and milvus["MINIO_ADDRESS"] == "milvus-minio:9000"
    assert (milvus["MINIO_BUCKET_NAME"], milvus["MINIO_ROOT_PATH"]) == ("a-bucket", "files")
    assert milvus["COMMON_SECURITY_AUTHORIZATIONENABLED"] == "true"
    root_password = user_yaml["common"]["security"]["defaultRootPassword"]
    assert root_password == program.outputs["milvusPassword"] != "Milvus"
    assert not [k for k in milvus if "PASSWORD" in k or "SECRET" in k]
    assert by_name["milvus"].inputs["command"] == ["milvus", "run", "standalone"]
    assert "seccomp" not in str(by_name["milvus"].inputs["securityOpts"])


def test_etcd_runs_upstreams_command_with_compaction_and_quota(program: Program) -> None:
    etcd = containers(program)["etcd"]
    assert etcd.inputs["command"][0] == "etcd" and "--data-dir" in etcd.inputs["command"]
    assert env(etcd)["ETCD_AUTO_COMPACTION_MODE"] == "revision"
    assert env(etcd)["ETCD_QUOTA_BACKEND_BYTES"] == str(4 * 1024**3)
    assert etcd.inputs["readOnly"] is True


def test_attu_reaches_milvus_by_container_name(program: Program) -> None:
    assert env(containers(program)["attu"])["MILVUS_URL"] == "milvus-standalone:19530"


def test_backup_server_reads_a_rendered_config_and_credentials_from_env(program: Program) -> None:
    backup = containers(program)["backup"]
    uploads = {u["file"]: u["content"] for u in backup.inputs["uploads"]}
    assert set(uploads) == {BACKUP_CONFIG_PATH} == {"/app/configs/backup.yaml"}
    rendered = yaml.safe_load(uploads[BACKUP_CONFIG_PATH])
    assert rendered["milvus"]["address"] == "milvus-standalone" and rendered["milvus"]["port"] == 19530
    assert rendered["minio"]["address"] == "milvus-minio" and rendered["minio"]["port"] == 9000
    assert (rendered["minio"]["bucketName"], rendered["minio"]["rootPath"]) == ("a-bucket", "files")
    assert "authorizationEnabled" not in rendered["milvus"]  # milvus-backup v0.5.16 ignores it
    # Absent, the backup bucket's credentials inherit MINIO_ACCESS_KEY/MINIO_SECRET_KEY (v0.5.16).
    assert "backupAccessKeyID" not in rendered["minio"] and rendered["minio"]["accessKeyID"] == ""
    values = env(backup)
    assert values["MILVUS_USER"] == "root" and values["MILVUS_PASSWORD"] == program.outputs["milvusPassword"]
    assert values["MINIO_ACCESS_KEY"] == program.outputs["minioRootUser"]
    assert values["MINIO_SECRET_KEY"] == program.outputs["minioRootPassword"]
    assert not backup.inputs.get("entrypoints")  # the image's `/app/milvus-backup server`


def test_data_volumes_are_protected_and_outlive_their_containers(program: Program) -> None:
    volumes = {v.inputs["labels"][0]["value"]: v for v in program.of_type(VOLUME)}
    assert {v.name for v in volumes.values()} == {f"milvus-{key}" for key in volumes}
    assert set(volumes) == {"etcd-data", "minio-data", "milvus-data", "etcd-snapshots", "backup-status"}
    for volume in volumes.values():
        assert volume.protect and volume.retain_on_delete
        assert not volume.dependencies  # a container change can never replace a volume
    mounts = {
        name: [v["volumeName"] for v in c.inputs.get("volumes") or []]
        for name, c in containers(program).items()
    }
    assert mounts["etcd"] == ["milvus-etcd-data"] and mounts["minio"] == ["milvus-minio-data"]
    assert mounts["milvus"] == ["milvus-data"]
    assert mounts["backup-scheduler"] == ["milvus-etcd-snapshots", "milvus-backup-status"]
    for container in program.of_type(CONTAINER):  # no Docker socket, no host path anywhere
        assert all("hostPath" not in v for v in container.inputs.get("volumes") or [])


def test_throwaway_stacks_can_unprotect_data() -> None:
    program = run_program("local", overrides={"protectData": "false"})
    assert not any(v.protect or v.retain_on_delete for v in program.of_type(VOLUME))


def secrets_of(program: Program) -> set[str]:
    values = set(program.config.placeholders.values())
    values |= {program.outputs["minioRootPassword"], program.outputs["milvusPassword"]}
    return values


def test_no_secret_in_any_plaintext_input_or_output(program: Program) -> None:
    secrets = secrets_of(program)
    leaks = [(where, s) for where, s in program.plaintext_strings() if any(secret in s for secret in secrets)]
    assert leaks == []
    assert {"minioRootPassword", "milvusPassword"} <= program.secret_outputs
    for container in program.of_type(CONTAINER):
        if role(container) in ("minio", "milvus"):
            secret_files = {
                container.inputs["uploads"][int(p.split("[")[1].split("]")[0])]["file"]
                for p in secret_paths(container.wire)
                if p.startswith("uploads")
            }
            assert (
                secret_files
                >= {
                    "minio": {"/run/secrets/minio-root-password"},
                    "milvus": {"/milvus/configs/user.yaml"},
                }[role(container)]
            )
        if role(container) in ("backup", "backup-scheduler"):
            assert "envs" in container.secret_input_names()


def test_given_passwords_stay_secret_end_to_end() -> None:
    program = run_program(
        "dev",
        overrides={"minio": {"rootPassword": {"secure": "x"}}, "milvus": {"rootPassword": {"secure": "y"}}},
    )
    given = set(program.config.placeholders.values())
    assert len(given) == 2 and not program.of_type("random:index/randomPassword:RandomPassword")
    assert {program.outputs["minioRootPassword"], program.outputs["milvusPassword"]} == given
    assert [s for _, s in program.plaintext_strings() if s in given] == []


def test_outputs(program: Program) -> None:
    outputs = program.outputs
    assert outputs["milvusUri"].endswith(":19530") and outputs["attuUrl"].endswith(":8000")
    assert outputs["minioApiUrl"].endswith(":9000") and outputs["minioConsoleUrl"] == "http://127.0.0.1:9001"
    assert outputs["milvusHealthUrl"] == "http://127.0.0.1:9091/healthz"
    assert outputs["backupApiUrl"] == "http://milvus-backup:8080/api/v1"
    assert outputs["milvusUser"] == "root"
    on_vm = program.config.values["milvus-platform:target"] == "proxmox"
    assert outputs["dockerHost"] == (None if on_vm else "local")  # a VM's ssh:// URL is known after the gate
    assert outputs["backupSchedule"] == {
        "milvus": "0 2 * * *",
        "etcd": "0 */6 * * *",
        "offsite": None,
        "timezone": "Etc/UTC",
    }
    assert outputs["offsiteBackup"].startswith("none configured")


def test_auth_off_exports_no_milvus_credentials_and_backup_sends_none() -> None:
    program = run_program("local", overrides={"milvus": {"authEnabled": False}})
    assert "milvusPassword" not in program.outputs and "milvusUser" not in program.outputs
    for name in ("backup", "backup-scheduler"):
        backup = env(containers(program)[name])
        assert "MILVUS_PASSWORD" not in backup and "MILVUS_USER" not in backup
    assert env(containers(program)["milvus"])["COMMON_SECURITY_AUTHORIZATIONENABLED"] == "false"


def test_the_ssh_target_talks_to_the_configured_host() -> None:
    program = run_program("local", overrides={"target": "ssh", "dockerHost": "ssh://deploy@10.25.20.19"})
    provider = program.of_type(DOCKER_PROVIDER)[0]
    assert provider.inputs["host"] == "ssh://deploy@10.25.20.19"
    # Never prompt, never add a host: the operator's known_hosts must already list it (providers get
    # JSON-encoded config).
    assert json.loads(provider.inputs["sshOpts"]) == [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
    ]
    local = run_program("local").of_type(DOCKER_PROVIDER)[0]
    assert "host" not in local.inputs  # DOCKER_HOST or the default socket


def test_the_proxmox_target_deploys_only_after_the_vm_is_ready() -> None:
    program = run_program("dev")
    gate = program.one("command:remote:Command", "docker-host-vm-ready")
    vm = program.one("proxmoxve:index/vmLegacy:VmLegacy", "docker-host-vm")
    host = program.one("milvus:host:DockerHost", "docker-host")
    assert program.by_urn(program.by_urn(vm.parent).parent) == host
    provider = program.of_type(DOCKER_PROVIDER)[0]
    assert provider.parent == host.urn
    assert gate.urn in provider.dependencies  # its ssh:// URL resolves from the gate's output
    assert not isinstance(provider.inputs.get("host"), str)  # unknown until the gate has run
    # The VM's pinned host key only, from the file the program writes (a path relative to the project
    # directory: the same text on every machine, so the provider never changes).
    assert json.loads(provider.inputs["sshOpts"]) == [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "UserKnownHostsFile=.known-hosts/dev",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "KnownHostsCommand=none",
        "-o",
        "UpdateHostKeys=no",
    ]
    assert provider.name == "docker"  # a provider's URN must never change
    assert vm.protect and vm.inputs["protection"] is True
    # The user data holds the VM's private host key: unknown in a first preview (no key yet), and a
    # secret once known (tests/proxmox/test_proxmox_vm.py), never plaintext.
    snippet = program.one("proxmoxve:index/fileLegacy:FileLegacy", "docker-host-vm-user-data")
    data = snippet.inputs["sourceRaw"]["data"]
    assert "sourceRaw" in snippet.secret_input_names() or not isinstance(data, str)
    # Published ports bind to the VM's static address by default.
    assert ("10.25.20.20", 19530) in {
        (p["ip"], p["external"]) for p in containers(program)["milvus"].inputs["ports"]
    }


def wire(program: Program) -> dict[str, Any]:
    return {r.urn: (r.wire, sorted(r.dependencies), r.parent, r.provider) for r in program.resources}


@pytest.mark.parametrize("stack", DOCKER_STACKS)
def test_two_runs_declare_identical_inputs(stack: str) -> None:
    assert wire(run_program(stack)) == wire(run_program(stack))


def test_a_version_bump_changes_only_that_services_image_and_container() -> None:
    before = wire(run_program("local"))
    after = wire(run_program("local", overrides={"versions": {"attu": "zilliz/attu:v2.5.12"}}))
    changed = {
        urn.rsplit("::", 1)[1] + " " + urn.split("::")[2].rsplit("$", 1)[1]
        for urn in before
        if before[urn] != after[urn]
    }
    assert changed == {f"milvus-attu-image {IMAGE}", f"milvus-attu-container {CONTAINER}"}


def test_bad_config_stops_the_program_before_any_resource() -> None:
    with pytest.raises(ProgramFailed) as failed:
        run_program("local", overrides={"memoryMb": {"milvus": 1024}})
    assert isinstance(failed.value.cause, ConfigError)
    assert "memoryMb.milvus" in str(failed.value.cause)
    assert failed.value.declared == []
