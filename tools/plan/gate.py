"""The gate a pull request cannot loosen: plan another checkout's program, judge it with this checkout's pack.

Run from the base branch's checkout (trusted: its planner, its pack, its policy config), pointing at the
pull request's checkout with `--program DIR`. The program in DIR runs in a child process under this
checkout's planner (copied over DIR's own, as `--base` does the other way round), so nothing the pull
request changes in the planner or the pack takes part in judging it. Then this checkout's pack, configured
with this checkout's `policies/config.<stack>.json`, judges the resources; and the pull request's own pack
and config are compared with this checkout's (policies/loosening.py) for every way they would judge more
leniently once merged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tools._cli import COPY_SKIPS, REPO_ROOT, ExitCode, ToolError
from tools.plan.model import PlannedItem
from tools.plan.run import install_instrument, read_policy_config
from tools.pulumi_mocks import Declared

_DECLARED_FIELDS = ("type", "name", "urn", "wire", "parent", "provider", "protect", "aliases", "dependencies")


def declared_to_json(declared: Declared) -> dict[str, Any]:
    """What the gate needs of a registration: the wire inputs (secrets still marked) and the graph."""
    return {name: getattr(declared, name) for name in _DECLARED_FIELDS}


def declared_from_json(data: Mapping[str, Any]) -> Declared:
    known = {f.name for f in fields(Declared)}
    values: dict[str, Any] = {"custom": True, "inputs": {}, "retain_on_delete": False}
    values.update({k: v for k, v in data.items() if k in known})
    return Declared(**values)


@dataclass(frozen=True)
class ProgramPlan:
    items: list[PlannedItem]
    declared: list[Declared]


def plan_program(directory: Path, stack: str, overrides: Sequence[str]) -> ProgramPlan:
    """The program in `directory` planned for `stack`, in a child process, with this checkout's planner."""
    if not (directory / "Pulumi.yaml").is_file():
        raise ToolError(
            f"--program {directory}: no Pulumi.yaml there. Accepted: the root of a checkout of this project "
            "(in CI, the pull request's).",
            ExitCode.USAGE,
        )
    if not (directory / f"Pulumi.{stack}.yaml").is_file():
        raise ToolError(
            f"--program {directory} has no stack `{stack}` (no Pulumi.{stack}.yaml).", ExitCode.USAGE
        )
    with tempfile.TemporaryDirectory(prefix="plan-gate-") as tmp:
        root = Path(tmp) / "program"
        shutil.copytree(directory, root, ignore=COPY_SKIPS, symlinks=True)
        install_instrument(root)
        command = [sys.executable, "-m", "tools.plan", "--stack", stack, "--emit-resources"]
        for override in overrides:
            command += ["--config", override]
        # The pull request's program gets none of the runner's GitHub/Actions variables (tokens, step outputs).
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ACTIONS_", "RUNNER_"))
        }
        env = {**inherited, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
        )
    if result.returncode != 0 or not result.stdout.strip():
        reason = " ".join(result.stderr.split()) or f"exit status {result.returncode}"
        raise ToolError(f"the program at {directory} could not be planned for stack `{stack}`: {reason}")
    data = json.loads(result.stdout)
    return ProgramPlan(
        [PlannedItem.from_json(r) for r in data["items"]], [declared_from_json(d) for d in data["declared"]]
    )


def policy_config_of(root: Path, stack: str) -> dict[str, Any] | None:
    path = root / "policies" / f"config.{stack}.json"
    return read_policy_config(str(path)) if path.is_file() else None


def pack_schemas(pack_dir: Path) -> Any:
    """A pack's rules, levels and settings as its server reports them (GetAnalyzerInfo)."""
    from policies.analyzer_client import AnalyzerSession

    with AnalyzerSession(pack_dir) as session:
        return session.schemas()


def gate_loosenings(program: Path, stack: str) -> list[str]:
    """How the pull request's pack and policy config judge more leniently than this checkout's."""
    from policies.catalog import schemas
    from policies.loosening import loosenings

    base_config = policy_config_of(REPO_ROOT, stack)
    head_config = policy_config_of(program, stack)
    head_pack = program / "policies"
    if not (head_pack / "PulumiPolicy.yaml").is_file():
        return ["the pull request has no policy pack at policies/"]
    try:
        head_schemas = pack_schemas(head_pack)
    except Exception as error:  # the head pack is the pull request's code: any failure is a finding
        return [f"the pull request's policy pack does not start: {' '.join(str(error).split())[:300]}"]
    return loosenings(schemas(), base_config, head_schemas, head_config)
