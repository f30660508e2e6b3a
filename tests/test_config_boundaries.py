"""Every config limit as an accept/refuse pair: the last accepted value and the first refused one, on both
ends where there are two. A limit moved by one (a `<` for a `<=`, a minimum off by one) fails one side.

The values come from the limits' sources: MinIO's key lengths and Milvus's password lengths
(docs/upstream.md minio.root-*-minimum, milvus.root-password-lengths), host ports above the privileged
range (CIS Docker 5.8), the memory minimums (components/config.py), retention 1-3650 days.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.backup.settings import parse_backup
from components.config import parse
from components.config_reader import ConfigError, Section

OFFSITE = {"endpoint": "https://s3.example.org", "bucket": "lab-offsite", "accessKey": "k", "secretKey": "s"}


def raw(**values: Any) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in values.items()}


def accepted(config: dict[str, str], secret: set[str] | None = None) -> None:
    parse(config, secret or set())


def refused(config: dict[str, str], key: str, secret: set[str] | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        parse(config, secret or set())
    assert error.value.key == key, str(error.value)
    return str(error.value)


MEMORY = [("etcd", 256), ("minio", 512), ("milvus", 4096), ("attu", 256), ("backup", 256)]


@pytest.mark.parametrize(("service", "minimum"), MEMORY)
def test_memory_minimum_and_one_below(service: str, minimum: int) -> None:
    accepted(raw(memoryMb={service: minimum}))
    message = refused(raw(memoryMb={service: minimum - 1}), f"memoryMb.{service}")
    assert f"at least {minimum})" in message and f"is {minimum - 1}." in message


@pytest.mark.parametrize(("service", "_minimum"), MEMORY)
def test_memory_maximum_and_one_above(service: str, _minimum: int) -> None:
    accepted(raw(memoryMb={service: 1024 * 1024}))
    refused(raw(memoryMb={service: 1024 * 1024 + 1}), f"memoryMb.{service}")


@pytest.mark.parametrize("key", ["milvusGrpc", "milvusHttp", "attu", "minioApi", "minioConsole"])
def test_host_ports_1024_to_65535(key: str) -> None:
    accepted(raw(ports={key: 1024}))
    accepted(raw(ports={key: 65535}))
    assert "an integer from 1024 to 65535" in refused(raw(ports={key: 1023}), f"ports.{key}")
    refused(raw(ports={key: 65536}), f"ports.{key}")


@pytest.mark.parametrize(
    ("port", "reason"), [(2379, "etcd's client API"), (8080, "milvus-backup's REST API")]
)
def test_the_never_published_ports_and_their_neighbours(port: int, reason: str) -> None:
    assert reason in refused(raw(ports={"attu": port}), "ports.attu")
    accepted(raw(ports={"attu": port - 1}))
    accepted(raw(ports={"attu": port + 1}))


def test_minio_root_user_three_characters_and_two() -> None:
    assert parse(raw(minio={"rootUser": "abc"})).minio.root_user == "abc"
    assert "shorter than 3 characters" in refused(raw(minio={"rootUser": "ab"}), "minio.rootUser")


def test_minio_password_eight_characters_and_seven() -> None:
    assert parse(raw(minio={"rootPassword": "a" * 8}), {"minio"}).minio.root_password is not None
    assert "shorter than 8" in refused(raw(minio={"rootPassword": "a" * 7}), "minio.rootPassword", {"minio"})


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("p" * 5, False),
        ("p" * 6, True),
        ("p" * 72, True),
        ("p" * 73, False),
        ("é" * 3, True),  # 3 characters, 6 bytes: Milvus counts bytes
        ("é" * 36, True),  # 72 bytes
        ("é" * 37, False),  # 37 characters but 74 bytes: more than bcrypt takes
    ],
)
def test_milvus_password_six_to_seventy_two_bytes(value: str, ok: bool) -> None:
    config = raw(milvus={"rootPassword": value})
    if ok:
        password = parse(config, {"milvus"}).milvus.root_password
        assert password is not None and password.value == value
    else:
        size = len(value.encode())
        assert f"has {len(value)} characters ({size} bytes in UTF-8)" in refused(
            config, "milvus.rootPassword", {"milvus"}
        )


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("files", True),
        ("a", True),
        ("data/x", True),
        ("v1.2_x-y", True),
        ("0files", True),
        ("/files", False),  # absolute
        ("./files", False),
        ("-files", False),
        ("files dir", False),
        ("files?", False),
        ("", False),
    ],
)
@pytest.mark.parametrize("key", ["rootPath", "backupRootPath"])
def test_root_path_shapes(key: str, path: str, ok: bool) -> None:
    config = raw(minio={key: path})
    if ok:
        assert getattr(parse(config).minio, "root_path" if key == "rootPath" else "backup_root_path") == path
    else:
        refused(config, f"minio.{key}")


@pytest.mark.parametrize(
    ("name", "ok"),
    [("abc", True), ("ab", False), ("a" * 63, True), ("a" * 64, False), ("a.b-c", True), ("10.0.0.1", False)],
)
def test_bucket_name_lengths_and_shapes(name: str, ok: bool) -> None:
    config = raw(minio={"bucket": name})
    if ok:
        assert parse(config).minio.bucket == name
    else:
        refused(config, "minio.bucket")


def backup(values: dict[str, Any]) -> Any:
    return parse_backup(Section("backup", values, secret=True))


@pytest.mark.parametrize("key", ["milvusKeepDays", "etcdKeepDays"])
def test_keep_days_one_and_zero_3650_and_3651(key: str) -> None:
    field = {"milvusKeepDays": "milvus_keep_days", "etcdKeepDays": "etcd_keep_days"}[key]
    assert getattr(backup({key: 1}), field) == 1
    assert getattr(backup({key: 3650}), field) == 3650
    for bad in (0, 3651, -1):
        with pytest.raises(ConfigError) as error:
            backup({key: bad})
        assert error.value.key == f"backup.{key}" and "from 1 to 3650 (days)" in str(error.value)


def test_offsite_keep_days_one_and_zero() -> None:
    target = backup({"offsite": {**OFFSITE, "keepDays": 1}}).offsite
    assert target is not None and target.keep_days == 1
    with pytest.raises(ConfigError) as error:
        backup({"offsite": {**OFFSITE, "keepDays": 0}})
    assert error.value.key == "backup.offsite.keepDays"


def test_scheduler_memory_128_and_127() -> None:
    assert backup({"memoryMb": 128}).memory_mb == 128
    with pytest.raises(ConfigError) as error:
        backup({"memoryMb": 127})
    assert error.value.key == "backup.memoryMb" and "at least 128" in str(error.value)


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ("59 23 31 12 6", True),
        ("60 0 * * *", False),
        ("0 24 * * *", False),
        ("0 0 0 * *", False),
        ("0 0 32 * *", False),
        ("0 0 * 0 *", False),
        ("0 0 * 13 *", False),
        ("0 0 * * 7", False),
        ("*/59 * * * *", True),
        ("*/60 * * * *", False),
        ("*/1 * * * *", True),
        ("*/0 * * * *", False),
        ("0 5-5 * * *", True),
        ("0 5-4 * * *", False),
        ("0-59/10 * * * *", True),
    ],
)
def test_cron_field_bounds(schedule: str, ok: bool) -> None:
    if ok:
        assert backup({"milvusSchedule": schedule}).milvus_schedule == schedule
    else:
        with pytest.raises(ConfigError) as error:
            backup({"milvusSchedule": schedule})
        assert error.value.key == "backup.milvusSchedule"


@pytest.mark.parametrize(
    ("endpoint", "ok"),
    [
        ("https://s3.example.org", True),
        ("http://10.0.0.5:9000", True),
        ("https://s3.example.org/", True),
        ("ftp://s3.example.org", False),
        ("https://", False),
        ("https://s3.example.org/bucket", False),
        ("s3.example.org", False),
    ],
)
def test_offsite_endpoint_shapes(endpoint: str, ok: bool) -> None:
    values = {"offsite": {**OFFSITE, "endpoint": endpoint}}
    if ok:
        target = backup(values).offsite
        assert target is not None and target.endpoint == endpoint.rstrip("/")
    else:
        with pytest.raises(ConfigError) as error:
            backup(values)
        assert error.value.key == "backup.offsite.endpoint"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("ssh://deploy@10.25.20.19", True),
        ("ssh://deploy@10.25.20.19:2222", True),
        ("tcp://deploy@10.25.20.19", False),  # user and host, wrong scheme
        ("ssh://deploy@", False),  # scheme and user, no host
        ("ssh://10.25.20.19", False),  # scheme and host, no user
    ],
)
def test_docker_host_needs_scheme_user_and_host(url: str, ok: bool) -> None:
    config = raw(target="ssh", dockerHost=url)
    if ok:
        assert parse(config).docker_host == url
    else:
        assert "not an ssh URL with a user and host" in refused(config, "dockerHost")


@pytest.mark.parametrize(
    ("config", "key"),
    [
        (raw(versions={"milvs": "milvusdb/milvus:v2.5.15"}), "versions.milvs"),
        (raw(memoryMb={"milvs": 8192}), "memoryMb.milvs"),
        (raw(ports={"milvusGRPC": 19531}), "ports.milvusGRPC"),
        (raw(minio={"rootUsr": "abc"}), "minio.rootUsr"),
        (raw(milvus={"authEnable": True}), "milvus.authEnable"),
        (raw(backup={"milvusKeep": 3}), "backup.milvusKeep"),
        (raw(backup={"offsite": {**OFFSITE, "keep": 3}}), "backup.offsite.keep"),
        (raw(protectDat="true"), "protectDat"),
    ],
)
def test_a_misspelt_key_is_refused_in_every_section(config: dict[str, str], key: str) -> None:
    assert "not a key this project knows" in refused(config, key, {"backup"})
