"""What the operations tools (plan, verify, restore) share: exit codes, the one error type, stack outputs.

Every tool explains a failure in one paragraph (a `ToolError`, whose `code` is the exit status) and exits
with an `ExitCode`; which code a failure gets is decided where it is raised, never from its text.
Light on purpose: importing this must not slow a tool's start (no SDK, no rich).
"""

from __future__ import annotations

import enum
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

# The checkout (or, for `tools.plan --base`, the extracted tree) this copy of the tools belongs to.
REPO_ROOT = Path(__file__).resolve().parent.parent
# Never copied when the checkout is copied to plan or test it elsewhere: environments, caches, state, history.
COPY_SKIPS = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".pulumi-state",
    ".mutation",
    "__pycache__",
)


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a check, a restore, the program or the policy pack said no
    USAGE = 2  # flags, a stack or its outputs, a config the caller gave
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


class ToolError(Exception):
    """A failure explained in one paragraph (the message); `code` is the exit status it ends the tool with."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.code = code


def one_line(text: str, limit: int = 300) -> str:
    """Multi-line output (a client's error, a CLI's stderr) as one line of at most `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_stack_outputs(stack: str, *, show_secrets: bool, timeout: float, without_cli: str) -> dict[str, Any]:
    """The stack's outputs from `pulumi stack output --json`. A stack the CLI cannot read is the caller's
    input, so every failure is a `ToolError` with `ExitCode.USAGE`; `without_cli` tells the operator what
    to do instead when the Pulumi CLI is not installed (e.g. "give the endpoints as flags instead")."""
    command = ["pulumi", "stack", "output", "--stack", stack, "--json"]
    if show_secrets:
        command.append("--show-secrets")
    if shutil.which("pulumi") is None:
        raise ToolError(
            f"--stack {stack} needs `pulumi stack output`, and the Pulumi CLI is not on PATH. Install it "
            f"(https://www.pulumi.com/docs/install/) or {without_cli}.",
            ExitCode.USAGE,
        )
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ToolError(
            f"`pulumi stack output --stack {stack}` did not finish in {timeout:g}s.", ExitCode.USAGE
        ) from None
    if done.returncode != 0:
        reason = one_line(done.stderr) or f"exit status {done.returncode}"
        raise ToolError(f"`pulumi stack output --stack {stack}` failed: {reason}", ExitCode.USAGE)
    try:
        outputs = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise ToolError(
            f"`pulumi stack output --stack {stack} --json` did not print JSON.", ExitCode.USAGE
        ) from None
    if not isinstance(outputs, dict):
        raise ToolError(
            f"`pulumi stack output --stack {stack} --json` printed {type(outputs).__name__}, "
            "not an object of outputs.",
            ExitCode.USAGE,
        )
    return outputs
