"""The GitHub workflows: valid against GitHub's workflow schema (check-jsonschema's vendored copy, so
offline), and doing what docs/plan.md promises: make test, the offline policy gate, the PR diff and
comment, and the real `pulumi preview --diff --policy-pack policies` on the lab's runner."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+){0,2}$")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def step_running(workflow: dict[str, Any], pattern: str) -> dict[str, Any]:
    found = [s for s in steps(workflow) if re.search(pattern, s.get("run", ""))]
    assert len(found) == 1, f"{len(found)} steps run {pattern!r}"
    return found[0]


@pytest.mark.parametrize("name", ["ci.yml", "preview.yml"])
def test_workflow_is_valid_against_githubs_schema(name: str) -> None:
    result = validate(WORKFLOWS / name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_the_schema_check_does_reject_a_broken_workflow(tmp_path: Path) -> None:
    broken = load("ci.yml")
    for job in broken["jobs"].values():
        del job["runs-on"]
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = validate(path)
    assert result.returncode == 1 and "'runs-on' is a required property" in result.stdout


@pytest.mark.parametrize("name", ["ci.yml", "preview.yml"])
def test_every_action_is_pinned_to_a_version_tag(name: str) -> None:
    uses = [s["uses"] for s in steps(load(name)) if "uses" in s]
    assert uses and all(PINNED.match(u) for u in uses), uses


def test_ci_runs_make_test_on_every_push_and_pull_request() -> None:
    ci = load("ci.yml")
    assert set(ci["on"]) == {"push", "pull_request"} and ci["on"]["push"] is None
    checkout = next(s for s in steps(ci) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be in the clone for --base
    python = next(s for s in steps(ci) if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    assert step_running(ci, r"^make test$")
    assert step_running(ci, r"^sudo make system-deps$")


def test_ci_gates_every_stack_on_the_offline_plan() -> None:
    # `shell: bash` makes GitHub run `bash -eo pipefail`, so `tools.plan | tee` keeps the plan's status.
    assert next(iter(load("ci.yml")["jobs"].values()))["defaults"]["run"]["shell"] == "bash"
    gate = step_running(load("ci.yml"), r"python -m tools\.plan \"\$\{args\[@\]\}\" \| tee")
    script = gate["run"]
    assert "for file in Pulumi.*.yaml" in script and 'args=(--stack "$stack")' in script
    # A failing stack fails the step (after every stack was planned), and nothing swallows the status.
    assert "|| status=$?" in script and "exit 1" in script and "|| true" not in script
    assert "GITHUB_STEP_SUMMARY" in script


def test_ci_posts_the_base_diff_on_pull_requests_except_from_forks() -> None:
    ci = load("ci.yml")
    diff = step_running(ci, r"--base \"origin/\$BASE_REF\"")
    assert "pull_request" in diff["if"] and diff["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert 'cat plan-comment.md >> "$GITHUB_STEP_SUMMARY"' in diff["run"]
    comment = next(s for s in steps(ci) if s.get("uses", "").startswith("actions/github-script@"))
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert "<!-- milvus-platform offline plan -->" in comment["with"]["script"]
    job = next(iter(ci["jobs"].values()))
    assert job["permissions"]["pull-requests"] == "write"


def test_preview_runs_pulumi_preview_with_the_pack_on_the_lab_runner() -> None:
    preview = load("preview.yml")
    assert preview["on"] == {
        "pull_request": {
            "paths": ["__main__.py", "components/**", "Pulumi*.yaml", "policies/**", "requirements*.txt"]
        }
    }
    (job,) = preview["jobs"].values()
    assert "self-hosted" in job["runs-on"] and "lab-proxmox" in job["runs-on"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    pulumi = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert len(pulumi) == 1
    inputs = pulumi[0]["with"]
    assert inputs["command"] == "preview" and inputs["stack-name"] == "dev"
    assert inputs["diff"] is True and inputs["policyPacks"] == "policies" and inputs["comment-on-pr"] is True
    assert inputs["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert "policies/config.dev.json" in inputs["policyPackConfigs"]
    env = pulumi[0]["env"]
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PROXMOX_VE_API_TOKEN", "PROXMOX_VE_ENDPOINT"):
        assert env[name] == f"${{{{ secrets.{name} }}}}"


def test_every_secret_the_workflows_use_is_documented() -> None:
    used = set()
    for path in WORKFLOWS.glob("*.yml"):
        used |= set(re.findall(r"secrets\.([A-Z0-9_]+)", path.read_text()))
    documented = (REPO_ROOT / "docs" / "plan.md").read_text()
    assert used >= {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PROXMOX_VE_API_TOKEN"}
    missing = sorted(name for name in used - {"GITHUB_TOKEN"} if f"`{name}`" not in documented)
    assert not missing, f"secrets used by workflows but not in docs/plan.md: {missing}"


# --------------------------------------------------------------------------------------------------
# The shell steps themselves, run the way GitHub runs `shell: bash` steps, with a stand-in planner.
# --------------------------------------------------------------------------------------------------

FAKE_PLANNER = """#!/usr/bin/env bash
echo "planned: $*"
case " $* " in
  *" --stack bad "*) exit 1 ;;     # a mandatory violation
  *" --stack broken "*) exit 2 ;;  # a usage error, e.g. an unknown base ref
esac
"""


def run_step(script: str, workdir: Path, stacks: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    for stack in stacks:
        (workdir / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    planner = workdir / ".venv" / "bin" / "python"
    planner.parent.mkdir(parents=True, exist_ok=True)
    planner.write_text(FAKE_PLANNER)
    planner.chmod(0o755)
    (workdir / "step.sh").write_text(script)
    summary = workdir / "summary.md"
    summary.touch()
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "step.sh"],
        cwd=workdir,
        env={"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def gate_script() -> str:
    return step_running(load("ci.yml"), r"python -m tools\.plan \"\$\{args\[@\]\}\" \| tee")["run"]


def diff_script() -> str:
    return step_running(load("ci.yml"), r"--base \"origin/\$BASE_REF\"")["run"]


def test_gate_step_fails_when_any_stack_has_a_mandatory_violation(tmp_path: Path) -> None:
    result = run_step(gate_script(), tmp_path, ["bad", "good"])
    assert result.returncode == 1, result.stdout + result.stderr
    summary = (tmp_path / "summary.md").read_text()
    # Every stack is planned and summarised, the failing one first in glob order and the other still after it.
    assert "### Offline plan: `bad` (exit 1)" in summary and "### Offline plan: `good` (exit 0)" in summary
    assert "policy gate failed for: bad" in result.stdout


def test_gate_step_passes_when_every_stack_is_clean(tmp_path: Path) -> None:
    result = run_step(gate_script(), tmp_path, ["good", "other"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "planned: -m tools.plan --stack good\n" in result.stdout
    assert "planned: -m tools.plan --stack other\n" in result.stdout


def test_diff_step_keeps_going_past_violations_but_not_past_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    ok = run_step(diff_script(), tmp_path / "ok", ["bad", "good"], BASE_REF="main")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    comment = (tmp_path / "ok" / "plan-comment.md").read_text()
    assert (
        "planned: -m tools.plan --stack bad --base origin/main" in comment
        and "planned: -m tools.plan --stack good --base origin/main" in comment
    )
    assert comment in (tmp_path / "ok" / "summary.md").read_text()
    (tmp_path / "broken").mkdir()
    broken = run_step(diff_script(), tmp_path / "broken", ["broken"], BASE_REF="main")
    assert broken.returncode == 2


def test_run_steps_take_event_data_from_env_not_inline_expressions() -> None:
    # `${{ }}` inside a script is pasted in before bash parses it: a branch name could inject commands.
    for name in ("ci.yml", "preview.yml"):
        for step in steps(load(name)):
            assert "${{" not in step.get("run", ""), (name, step.get("name"))


@pytest.mark.parametrize("name", ["ci.yml", "preview.yml"])
def test_run_steps_pass_shellcheck(name: str, tmp_path: Path) -> None:
    for index, step in enumerate(s for s in steps(load(name)) if "run" in s):
        script = tmp_path / f"step{index}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"])
        result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (step.get("name"), result.stdout)
