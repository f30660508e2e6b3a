"""Where verify's endpoints come from: the stack's outputs, then flags (which win), then the environment.

Every problem with them is a usage error (exit 2) naming the flag or stack output, never showing a
password or token.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from tools._cli import ExitCode, ToolError, read_stack_outputs
from tools.verify import kubernetes
from tools.verify.http import BackupSchedule, validate_schedule

PULUMI_TIMEOUT = 120.0  # `pulumi stack output` may decrypt secrets through a remote backend


@dataclass(frozen=True)
class Endpoints:
    milvus_uri: str | None = None
    milvus_health_url: str | None = None
    milvus_user: str | None = None
    milvus_password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    minio_url: str | None = None
    attu_url: str | None = None
    backup_url: str | None = None
    backup_schedule: BackupSchedule | None = None
    # Endpoints field -> why it is not checked: a kubernetes stack's in-cluster endpoints (verify/kubernetes.py).
    unchecked: Mapping[str, str] = field(default_factory=dict)
    access: Mapping[str, Any] | None = None  # stack output `milvusAccess`: databases, roles, users
    logins: Mapping[str, str] = field(default_factory=dict, repr=False)  # user -> password (secret)

    def credentials(self) -> str | None:
        """The token pymilvus sends: an explicit token, else `user:password`."""
        if self.token:
            return self.token
        if self.milvus_user and self.milvus_password:
            return f"{self.milvus_user}:{self.milvus_password}"
        return None

    def public(self) -> dict[str, Any]:
        """What may be shown: every endpoint, the user name, never a password or token."""
        schedule = self.backup_schedule
        return {
            "milvusUri": self.milvus_uri,
            "milvusHealthUrl": self.milvus_health_url,
            "milvusUser": self.milvus_user,
            "milvusAuth": "token" if self.token else ("password" if self.milvus_password else "none"),
            "minioApiUrl": self.minio_url,
            "attuUrl": self.attu_url,
            "backupApiUrl": self.backup_url,
            "backupSchedule": {"milvus": schedule.cron, "timezone": schedule.timezone} if schedule else None,
            "milvusAccessUsers": sorted((self.access or {}).get("users") or {}),
        }


# Stack output name -> Endpoints field; the names the Pulumi program exports.
STACK_OUTPUTS = {
    "milvusUri": "milvus_uri",
    "milvusHealthUrl": "milvus_health_url",
    "milvusUser": "milvus_user",
    "milvusPassword": "milvus_password",
    "minioApiUrl": "minio_url",
    "attuUrl": "attu_url",
    "backupApiUrl": "backup_url",
}


def endpoints_from_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Stack outputs -> Endpoints fields. Unknown outputs are ignored (the stack exports more than verify
    needs); a known one of the wrong type is an error naming it (never showing a secret's value)."""
    values: dict[str, Any] = {}
    for output, name in STACK_OUTPUTS.items():
        value = outputs.get(output)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            shown = "(value not shown)" if output == "milvusPassword" else json.dumps(value)[:80]
            raise ToolError(
                f"stack output `{output}` is {shown}; verify accepts a non-empty string.", ExitCode.USAGE
            )
        values[name] = value
    values.update(access_from_outputs(outputs))
    schedule = outputs.get("backupSchedule")
    if schedule is not None:
        if not isinstance(schedule, Mapping):
            raise ToolError(
                f"stack output `backupSchedule` is {json.dumps(schedule)[:80]}; verify accepts an object "
                '{"milvus": "<cron>", "timezone": "<IANA zone>", ...}.',
                ExitCode.USAGE,
            )
        cron, timezone = schedule.get("milvus"), schedule.get("timezone") or "Etc/UTC"
        if cron is not None:
            if not isinstance(cron, str) or not isinstance(timezone, str):
                raise ToolError(
                    "stack output `backupSchedule.milvus` and `.timezone` must be strings.", ExitCode.USAGE
                )
            problem = validate_schedule(cron, timezone)
            if problem:
                raise ToolError(f"stack output `backupSchedule`: {problem}.", ExitCode.USAGE)
            values["backup_schedule"] = BackupSchedule(cron, timezone)
    return values


LOGIN_PREFIX = "milvusLogin_"


def access_from_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """`milvusAccess` (the declared access) and each `milvusLogin_<user>` (its password), checked for shape;
    an error names the output, never a password."""
    values: dict[str, Any] = {}
    access = outputs.get("milvusAccess")
    if access is not None:
        if not isinstance(access, Mapping) or not isinstance(access.get("users", {}), Mapping):
            raise ToolError(
                f"stack output `milvusAccess` is {json.dumps(access)[:80]}; verify accepts an object "
                '{"databases": [...], "roles": {...}, "users": {...}}.',
                ExitCode.USAGE,
            )
        values["access"] = access
    logins = {}
    for output, login in outputs.items():
        if not output.startswith(LOGIN_PREFIX):
            continue
        password = login.get("password") if isinstance(login, Mapping) else None
        if not isinstance(password, str) or not password:
            raise ToolError(
                f"stack output `{output}` has no password (value not shown); verify accepts "
                '{"uri", "user", "password"}: read the outputs with --show-secrets.',
                ExitCode.USAGE,
            )
        logins[output.removeprefix(LOGIN_PREFIX)] = password
    if logins:
        values["logins"] = logins
    return values


def check_url(flag: str, value: str, schemes: Sequence[str] = ("http", "https")) -> str:
    parsed = urlparse(value)
    accepted = " or ".join(f"{scheme}://HOST[:PORT]" for scheme in schemes)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ToolError(f'{flag} is "{value}"; accepted: {accepted}.', ExitCode.USAGE)
    if parsed.username or parsed.password:
        # Credentials in a URL end up in every message that names the endpoint.
        raise ToolError(
            f"{flag} contains credentials (value not shown); pass them with --milvus-user/"
            "--milvus-password or --token instead.",
            ExitCode.USAGE,
        )
    try:
        parsed.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise ToolError(
            f'{flag} is "{value}", whose port is not 1-65535; accepted: {accepted}.', ExitCode.USAGE
        ) from error
    return value


def resolve_endpoints(args: argparse.Namespace, environ: Mapping[str, str]) -> Endpoints:
    values: dict[str, Any] = {}
    if args.stack:
        outputs = read_stack_outputs(
            args.stack,
            show_secrets=True,  # the Milvus password
            timeout=PULUMI_TIMEOUT,
            without_cli="give the endpoints as flags instead (--milvus-uri, --milvus-health-url, "
            "--minio-url, --attu-url, --backup-url)",
        )
        values = endpoints_from_outputs(outputs)
        values["unchecked"] = kubernetes.unreachable(outputs, args.stack)
    flags = {
        "milvus_uri": args.milvus_uri,
        "milvus_health_url": args.milvus_health_url,
        "minio_url": args.minio_url,
        "attu_url": args.attu_url,
        "backup_url": args.backup_url,
    }
    values.update({name: value for name, value in flags.items() if value is not None})
    # An endpoint the stack cannot be checked at is not used, unless a flag gives one that can be.
    unchecked = {k: v for k, v in values.get("unchecked", {}).items() if flags.get(k) is None}
    values["unchecked"] = unchecked
    for name in unchecked:
        values.pop(name, None)

    # Secrets may come from the environment so they need not appear in the process list.
    password = args.milvus_password or environ.get("MILVUS_PASSWORD")
    token = args.token or environ.get("MILVUS_TOKEN")
    if token:
        values.pop("milvus_password", None)
        values["token"] = token
        values["milvus_user"] = args.milvus_user or (token.split(":", 1)[0] if ":" in token else None)
    else:
        if args.milvus_user:
            values["milvus_user"] = args.milvus_user
        if password:
            values["milvus_password"] = password
        if values.get("milvus_password") and not values.get("milvus_user"):
            raise ToolError(
                "a Milvus password was given without a user: add --milvus-user NAME (or use --token).",
                ExitCode.USAGE,
            )
        if values.get("milvus_user") and not values.get("milvus_password"):
            raise ToolError(
                f"--milvus-user {values['milvus_user']} has no password: add --milvus-password, "
                "set MILVUS_PASSWORD, or use --token.",
                ExitCode.USAGE,
            )

    if args.backup_schedule is not None:
        timezone = args.backup_timezone or (
            values["backup_schedule"].timezone if "backup_schedule" in values else "Etc/UTC"
        )
        problem = validate_schedule(args.backup_schedule, timezone)
        if problem:
            raise ToolError(f"--backup-schedule/--backup-timezone: {problem}.", ExitCode.USAGE)
        values["backup_schedule"] = BackupSchedule(args.backup_schedule, timezone)
    elif args.backup_timezone is not None:
        raise ToolError(
            "--backup-timezone needs --backup-schedule (or a stack with backupSchedule).", ExitCode.USAGE
        )

    for name, flag in (
        ("milvus_health_url", "--milvus-health-url"),
        ("minio_url", "--minio-url"),
        ("attu_url", "--attu-url"),
        ("backup_url", "--backup-url"),
    ):
        if values.get(name):
            check_url(flag, values[name])
    if values.get("milvus_uri"):
        check_url("--milvus-uri", values["milvus_uri"], ("http", "https", "tcp"))
    return Endpoints(**values)
