"""`python -m tools.plan --program DIR`: a pull request's program judged by this checkout's pack and policy
config, whatever the pull request did to its own pack, config or planner; and its loosenings reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.plan.conftest import run_plan
from tools._cli import COPY_SKIPS, REPO_ROOT


@pytest.fixture()
def head(tmp_path: Path) -> Path:
    """A pull request's checkout: a copy of this one, to be changed by each test."""
    root = tmp_path / "head"
    shutil.copytree(REPO_ROOT, root, ignore=COPY_SKIPS)
    return root


def gate(head: Path, *extra: str) -> tuple[int, dict]:
    result = run_plan("--stack", "dev", "--program", str(head), "--json", *extra)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_an_unchanged_pull_request_passes_the_gate(head: Path) -> None:
    status, report = gate(head)
    assert status == 0 and report["loosenings"] == []
    assert not [v for v in report["violations"] if v["level"] == "mandatory"]


def test_a_pull_request_cannot_loosen_its_own_judge(head: Path) -> None:
    """It publishes Attu everywhere, allows that in its policy config, disables the rule in its pack, and
    guts the planner's pack client: the base's pack and config still judge, and each loosening is named."""
    config = head / "policies" / "config.dev.json"
    config.write_text(
        json.dumps(
            {
                "attu-address-allowed": {"allowedAddresses": ["127.0.0.1", "10.25.20.20", "0.0.0.0"]},
                "container-ports-bound-to-address": "advisory",
                "container-not-privileged": {
                    "exemptions": [{"resource": "milvus-attu", "reason": "trust me"}]
                },
            }
        )
    )
    pulumi_dev = head / "Pulumi.dev.yaml"
    pulumi_dev.write_text(pulumi_dev.read_text() + "  milvus-platform:publishAddress: 0.0.0.0\n")
    (head / "tools" / "plan" / "run.py").write_text(
        "raise SystemExit('the pull request replaced the planner')\n"
    )
    status, report = gate(head)
    assert status == 1
    mandatory = {v["policy"] for v in report["violations"] if v["level"] == "mandatory"}
    assert {"attu-address-allowed", "container-ports-bound-to-address"} <= mandatory
    loosened = "\n".join(report["loosenings"])
    assert "allowedAddresses` adds 0.0.0.0" in loosened
    assert "`container-ports-bound-to-address` is mandatory on the base branch and advisory here" in loosened
    assert "exemptions` adds milvus-attu" in loosened


def test_a_code_owners_approval_lets_a_loosening_pass_but_not_a_violation(head: Path) -> None:
    config = head / "policies" / "config.dev.json"
    config.write_text(
        json.dumps(
            {"attu-address-allowed": {"allowedAddresses": ["127.0.0.1", "10.25.20.20", "10.25.20.21"]}}
        )
    )
    status, report = gate(head)
    assert status == 1 and report["loosenings"] and not report["looseningApproved"]
    status, report = gate(head, "--loosening-approved")
    assert status == 0 and report["loosenings"]
    text = run_plan("--stack", "dev", "--program", str(head), "--loosening-approved")
    assert "LOOSENS  `attu-address-allowed.allowedAddresses` adds 10.25.20.21" in text.stdout
    assert "approved by a code owner" in text.stdout


def test_a_pack_default_lowered_in_the_pull_request_is_a_loosening(head: Path) -> None:
    rules = head / "policies" / "credential_rules.py"
    text = rules.read_text()
    marker = '"milvus-auth-enabled",'
    start = text.index(marker)
    rules.write_text(text[:start] + text[start:].replace("MANDATORY,", "ADVISORY,", 1))
    status, report = gate(head)
    assert status == 1
    assert "`milvus-auth-enabled` is mandatory on the base branch and advisory here" in report["loosenings"]


def test_program_is_a_usage_error_without_a_project(tmp_path: Path) -> None:
    result = run_plan("--stack", "dev", "--program", str(tmp_path))
    assert result.returncode == 2 and "no Pulumi.yaml there" in result.stderr
