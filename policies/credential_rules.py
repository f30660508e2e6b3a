"""Default and weak credentials of MinIO and Milvus, read from container env (and Milvus's user.yaml upload).

Passwords reach these rules in clear text only inside the policy process (the engine sends secret inputs
to analyzers); no message ever repeats a password, only which setting is wrong. A value unknown during
preview (a generated password) is never judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from policies.common import (
    ADVISORY,
    CONTAINER,
    MANDATORY,
    UNKNOWN,
    Env,
    Resource,
    display,
    env_of,
    known_list,
    resource_rule,
    role_of,
    setting,
)

MINIO_DEFAULT = "minioadmin"
MILVUS_DEFAULT_ROOT_PASSWORD = "Milvus"
MILVUS_USER_YAML = "/milvus/configs/user.yaml"


def _minio_root(env: Env) -> tuple[Any, Any]:
    """MinIO's effective root user and password: the current names, else the deprecated ones, else None."""
    user = env.values.get("MINIO_ROOT_USER", env.values.get("MINIO_ACCESS_KEY"))
    password = env.values.get("MINIO_ROOT_PASSWORD", env.values.get("MINIO_SECRET_KEY"))
    return user, password


def _has_user_yaml(container: Resource) -> bool:
    return any(
        isinstance(u, dict) and u.get("file") == MILVUS_USER_YAML
        for u in known_list(container.get("uploads"))
    )


@resource_rule(
    "minio-credentials-not-default",
    "MinIO, and Milvus and milvus-backup as its clients, do not use MinIO's built-in minioadmin credentials.",
    MANDATORY,
    [CONTAINER],
)
def minio_credentials_not_default(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    role = role_of(container)
    env = env_of(container)
    if role == "minio":
        user, password = _minio_root(env)
        for setting_name, value, variable in (
            ("root user", user, "MINIO_ROOT_USER"),
            ("root password", password, "MINIO_ROOT_PASSWORD"),
        ):
            if value is None and env.complete:
                yield (
                    f"{display(container)} does not set {variable}, so MinIO's {setting_name} is the built-in "
                    f'"{MINIO_DEFAULT}"; set it (the password from a Pulumi secret).'
                )
            elif value == MINIO_DEFAULT:
                yield (
                    f"{display(container)} sets MinIO's {setting_name} to the built-in default; use another "
                    "value (the password from a Pulumi secret)."
                )
    elif role == "milvus":
        for variable in ("MINIO_ACCESS_KEY_ID", "MINIO_SECRET_ACCESS_KEY"):
            value = env.values.get(variable)
            # Unset, Milvus falls back to minioadmin unless a mounted user.yaml says otherwise.
            if (env.missing(variable) and not _has_user_yaml(container)) or value == MINIO_DEFAULT:
                yield (
                    f'{display(container)} leaves Milvus on MinIO\'s default "{MINIO_DEFAULT}" ({variable}); '
                    "give it the same credentials MinIO has."
                )
    elif role in ("backup", "backup-scheduler"):
        for variable in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
            if env.values.get(variable) == MINIO_DEFAULT:
                yield (
                    f'{display(container)} gives milvus-backup MinIO\'s default "{MINIO_DEFAULT}" ({variable}); '
                    "give it the same credentials MinIO has."
                )


LENGTH_SETTINGS = {
    "minimumPasswordLength": {
        "type": "integer",
        "minimum": 8,
        "default": 8,
        "description": "Shortest MinIO root password accepted (MinIO itself refuses fewer than 8 characters).",
    }
}


@resource_rule(
    "minio-credentials-min-length",
    "MinIO's root user has at least 3 characters and its password at least minimumPasswordLength (default 8).",
    MANDATORY,
    [CONTAINER],
    settings=LENGTH_SETTINGS,
)
def minio_credentials_min_length(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "minio":
        return
    user, password = _minio_root(env_of(container))
    minimum = int(setting(config, "minimumPasswordLength", LENGTH_SETTINGS))
    if isinstance(user, str) and len(user) < 3:
        yield f"{display(container)} has a MinIO root user shorter than 3 characters; MinIO refuses to start."
    if isinstance(password, str) and len(password) < minimum:
        yield (
            f"{display(container)} has a MinIO root password shorter than {minimum} characters; "
            "use a long random secret (e.g. generated with pulumi_random)."
        )


@resource_rule(
    "minio-deprecated-credential-variables",
    "MinIO gets its credentials from MINIO_ROOT_USER/MINIO_ROOT_PASSWORD, not the deprecated "
    "MINIO_ACCESS_KEY/MINIO_SECRET_KEY.",
    ADVISORY,
    [CONTAINER],
)
def minio_deprecated_variables(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "minio":
        return
    env = env_of(container)
    for old, new in (("MINIO_ACCESS_KEY", "MINIO_ROOT_USER"), ("MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD")):
        if old in env.values:
            yield f"{display(container)} sets {old}, deprecated since 2021; rename it to {new}."


def _milvus_setting(container: Resource, env: Env, key: str) -> Any:
    """A Milvus config value: env overrides (any name whose letters match the key) win over user.yaml.
    Returns UNKNOWN when it may be hidden in an unknown env entry, None when unset."""
    wanted = key.replace(".", "").lower()
    for name, value in env.values.items():
        if name.lower().replace("_", "").replace(".", "").replace("/", "") == wanted:
            return value
    for upload in known_list(container.get("uploads")):
        if isinstance(upload, dict) and upload.get("file") == MILVUS_USER_YAML:
            content = upload.get("content")
            if content is UNKNOWN:
                return UNKNOWN
            try:
                node: Any = yaml.safe_load(content) if isinstance(content, str) else None
            except yaml.YAMLError:
                node = None  # Milvus would refuse it too; nothing here to judge
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                return str(node).lower() if isinstance(node, bool) else str(node)
    return None if env.complete else UNKNOWN


AUTH_KEY = "common.security.authorizationEnabled"
ROOT_PASSWORD_KEY = "common.security.defaultRootPassword"


@resource_rule(
    "milvus-auth-enabled",
    "Milvus runs with authentication on (common.security.authorizationEnabled=true).",
    MANDATORY,
    [CONTAINER],
)
def milvus_auth_enabled(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if role_of(container) != "milvus":
        return
    value = _milvus_setting(container, env_of(container), AUTH_KEY)
    if value is UNKNOWN:
        return
    if value is None or value.strip().lower() != "true":
        yield (
            f"{display(container)} runs Milvus without authentication, so anyone who reaches port 19530 owns "
            "the data; set COMMON_SECURITY_AUTHORIZATIONENABLED=true."
        )


@resource_rule(
    "milvus-root-password-not-default",
    "Milvus's root password is not the built-in default `Milvus`.",
    MANDATORY,
    [CONTAINER],
)
def milvus_root_password_not_default(container: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    role = role_of(container)
    env = env_of(container)
    if role == "milvus":
        auth = _milvus_setting(container, env, AUTH_KEY)
        if not isinstance(auth, str) or auth.strip().lower() != "true":
            return  # without auth there is no root password to judge (milvus-auth-enabled reports that)
        password = _milvus_setting(container, env, ROOT_PASSWORD_KEY)
        if password is None:
            yield (
                f"{display(container)} enables auth without COMMON_SECURITY_DEFAULTROOTPASSWORD, so the first "
                f'start creates root with the password "{MILVUS_DEFAULT_ROOT_PASSWORD}"; set it from a Pulumi secret.'
            )
        elif password == MILVUS_DEFAULT_ROOT_PASSWORD:
            yield (
                f'{display(container)} sets the Milvus root password to the default "{MILVUS_DEFAULT_ROOT_PASSWORD}"; '
                "use a generated secret."
            )
    elif (
        role in ("backup", "backup-scheduler")
        and env.values.get("MILVUS_PASSWORD") == MILVUS_DEFAULT_ROOT_PASSWORD
    ):
        yield (
            f'{display(container)} connects to Milvus with the default root password "{MILVUS_DEFAULT_ROOT_PASSWORD}"; '
            "change the root password and pass the new one as a Pulumi secret."
        )


POLICIES = [
    minio_credentials_not_default,
    minio_credentials_min_length,
    minio_deprecated_variables,
    milvus_auth_enabled,
    milvus_root_password_not_default,
]
