"""The access resources in the real program under Pulumi's mocks (tools/pulumi_mocks.py): what is declared for
`milvus.access`, under which component, after what, with which inputs secret, and how each target is reached."""

from __future__ import annotations

import base64
import json
import pickletools
from typing import Any

import pytest

from components.access.provider import TYPES
from tools.pulumi_mocks import Declared, Program, run_program, strings

ACCESS = "milvus:access:MilvusAccess"
MILVUS_CONTAINER = "milvus-milvus-container"
TEAM = {
    "databases": {"team_a": {}},
    "roles": {
        "team_a_reader": {
            "grants": [
                {"objectType": "Global", "privilege": "DescribeCollection", "database": "team_a"},
                {"objectType": "Collection", "privilege": "Search", "database": "team_a"},
            ]
        }
    },
    "users": {
        "alice": {"roles": ["team_a_reader"]},
        "bob": {"roles": ["team_a_reader", "public"], "password": {"secure": "bob"}},
    },
}


def with_team(stack: str = "local", **others: Any) -> Program:
    return run_program(stack, overrides={"milvus": {"access": TEAM}, **others})


@pytest.fixture(scope="module")
def local() -> Program:
    return with_team()


def kind(program: Program, name: str) -> list[Declared]:
    return program.of_type(TYPES[name])


def names(resources: list[Declared]) -> list[str]:
    return sorted(r.name for r in resources)


def test_one_resource_per_database_role_user_and_binding_under_the_access_component(local: Program) -> None:
    component = local.one(ACCESS, "milvus-access")
    assert component.parent.endswith("pulumi:pulumi:Stack::milvus-platform-local")
    assert names(kind(local, "RootPassword")) == ["milvus-access-root-password"]
    assert names(kind(local, "Database")) == ["milvus-access-database-team_a"]
    assert names(kind(local, "Role")) == ["milvus-access-role-team_a_reader"]
    assert names(kind(local, "User")) == ["milvus-access-user-alice", "milvus-access-user-bob"]
    assert names(kind(local, "RoleBinding")) == [
        "milvus-access-binding-alice-team_a_reader",
        "milvus-access-binding-bob-public",
        "milvus-access-binding-bob-team_a_reader",
    ]
    for resource in (r for r in local.resources if r.type in TYPES.values()):
        assert resource.parent == component.urn and resource.custom and resource.provider == ""
    role = local.one(TYPES["Role"], "milvus-access-role-team_a_reader")
    assert role.inputs["name"] == "team_a_reader"
    assert role.inputs["grants"] == [  # sorted: the stack's order means nothing
        {"objectType": "Collection", "objectName": "*", "privilege": "Search", "database": "team_a"},
        {"objectType": "Global", "objectName": "*", "privilege": "DescribeCollection", "database": "team_a"},
    ]
    # Only alice's password is generated; bob's is the stack's secret.
    generated = [
        r for r in local.of_type("random:index/randomPassword:RandomPassword") if r.parent == component.urn
    ]
    assert [(r.name, r.inputs) for r in generated] == [
        ("milvus-access-user-alice-password", {"length": 32, "special": False})
    ]


def test_everything_waits_for_the_healthy_milvus_container_and_root_first(local: Program) -> None:
    container = local.one("docker:index/container:Container", MILVUS_CONTAINER)
    root = local.one(TYPES["RootPassword"], "milvus-access-root-password")
    assert container.inputs["wait"] is True
    for resource in (r for r in local.resources if r.type in TYPES.values()):
        assert container.urn in resource.dependencies, resource.name
        if resource is not root:  # logs in with root's password as RootPassword leaves it
            assert root.urn in resource.property_dependencies["rootPassword"], resource.name
    role = local.one(TYPES["Role"], "milvus-access-role-team_a_reader")
    assert local.one(TYPES["Database"], "milvus-access-database-team_a").urn in role.dependencies
    binding = local.one(TYPES["RoleBinding"], "milvus-access-binding-alice-team_a_reader")
    assert {role.urn, local.one(TYPES["User"], "milvus-access-user-alice").urn} <= set(binding.dependencies)


def test_passwords_are_secret_inputs_and_outputs_and_never_plaintext(local: Program) -> None:
    for resource in (r for r in local.resources if r.type in TYPES.values()):
        secret = resource.secret_input_names()
        expected = {"password"} if resource.type in (TYPES["RootPassword"], TYPES["User"]) else set()
        assert secret == expected | ({"rootPassword"} if resource.type != TYPES["RootPassword"] else set())
        assert {"password", "rootPassword"} <= set(resource.additional_secret_outputs)
    passwords = set(local.config.placeholders.values()) | {
        local.outputs["milvusPassword"],
        local.outputs["minioRootPassword"],
        local.outputs["milvusLogin_alice"]["password"],
    }
    assert len(passwords) == 4 and all(len(p) >= 6 for p in passwords)
    assert [(w, s) for w, s in local.plaintext_strings() if any(p in s for p in passwords)] == []
    assert {"milvusLogin_alice", "milvusLogin_bob"} <= local.secret_outputs
    assert local.outputs["milvusLogin_bob"] == {
        "uri": "http://127.0.0.1:19530",
        "user": "bob",
        "password": local.config.placeholders["milvus-platform:milvus.access.users.bob.password"],
    }
    assert "milvusAccess" not in local.secret_outputs
    assert local.outputs["milvusAccess"]["users"] == {
        "alice": ["team_a_reader"],
        "bob": ["team_a_reader", "public"],
    }


def test_the_serialized_provider_is_a_reference_holding_nothing(local: Program) -> None:
    """What Pulumi keeps in state to run the provider: the class by its module path, no field, no secret."""
    for resource in (r for r in local.resources if r.type in TYPES.values()):
        blob = resource.wire["__provider"]
        assert isinstance(blob, str), resource.name  # not a secret wrapper: there is nothing to hide
        pickled = base64.b64decode(blob)
        assert len(pickled) < 120
        ops = [(op.name, arg) for op, arg, _ in pickletools.genops(pickled)]
        assert ("SHORT_BINUNICODE", "components.access.provider") in ops, ops
        texts = [arg for _, arg in ops if isinstance(arg, str)]
        assert texts == ["components.access.provider", f"{resource.type.rsplit(':', 1)[1]}Provider"], texts
        assert not [name for name, _ in ops if name in ("EMPTY_DICT", "SETITEMS", "BUILD")]


def test_targets_reach_milvus_their_own_way() -> None:
    def endpoint(program: Program) -> dict[str, Any]:
        return dict(program.one(TYPES["RootPassword"], "milvus-access-root-password").inputs["endpoint"])

    local = endpoint(run_program("local"))
    assert local == {"uri": "http://127.0.0.1:19530", "sshOptions": [], "waitSeconds": 120}  # no sshHost
    ssh = run_program("local", overrides={"target": "ssh", "dockerHost": "ssh://deploy@10.25.20.19"})
    docker = ssh.of_type("pulumi:providers:docker")[0]
    assert endpoint(ssh)["sshHost"] == "ssh://deploy@10.25.20.19"
    # The docker provider's own host-key checks (providers take their inputs as JSON strings).
    assert endpoint(ssh)["sshOptions"] == json.loads(docker.inputs["sshOpts"])
    vm = run_program("dev")
    assert endpoint(vm)["sshOptions"] == json.loads(
        vm.of_type("pulumi:providers:docker")[0].inputs["sshOpts"]
    )
    assert "UserKnownHostsFile=.known-hosts/dev" in endpoint(vm)["sshOptions"]
    k8s = run_program("k8s")
    assert endpoint(k8s) == {
        "uri": "http://10.25.20.31:31953",
        "sshOptions": [],
        "waitSeconds": 900,
    }
    root = k8s.one(TYPES["RootPassword"], "milvus-access-root-password")
    assert k8s.one("kubernetes:milvus.io/v1beta1:Milvus", "milvus-milvus").urn in root.dependencies


def test_without_authentication_there_is_nothing_to_manage() -> None:
    program = run_program("local", overrides={"milvus": {"authEnabled": False}})
    assert not program.of_type(ACCESS) and not [r for r in program.resources if r.type in TYPES.values()]
    assert "milvusAccess" not in program.outputs


def test_strings_helper_sees_the_provider_blob(local: Program) -> None:
    root = local.one(TYPES["RootPassword"], "milvus-access-root-password")
    assert any(path == ".__provider" and not secret for path, _, secret in strings(root.wire))


def test_root_password_rotated_and_user_yaml_carry_the_same_secret() -> None:
    """What makes a rebuilt container or a fresh volume agree with the rotation: Milvus's user.yaml (read
    on a first start) and the RootPassword resource (which rotates the stored one) take the same secret."""
    program = run_program("local", overrides={"milvus": {"rootPassword": {"secure": "v1:cipher"}}})
    password = program.config.placeholders["milvus-platform:milvus.rootPassword"]
    root = program.one(TYPES["RootPassword"], "milvus-access-root-password")
    assert root.inputs["password"] == password and "password" in root.secret_input_names()
    container = program.one("docker:index/container:Container", MILVUS_CONTAINER)
    user_yaml = next(u["content"] for u in container.inputs["uploads"] if u["file"].endswith("user.yaml"))
    assert f"defaultRootPassword: {password}" in user_yaml
