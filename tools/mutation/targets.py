"""Which production files are mutated, and which tests judge a mutant of each.

The first matching rule wins. Test paths are ordered fast and specific first (the run stops at the first
failure). A file without a rule is judged by the whole suite, which is slow but never wrong.
"""

from __future__ import annotations

from fnmatch import fnmatch

# The default scope of `make mutation`: everything a deployment or an operator depends on.
DEFAULT_FILES = (
    "components/*.py",
    "components/backup/*.py",
    "components/access/*.py",
    "components/kubernetes/*.py",
    "tools/*.py",
    "tools/verify/*.py",
    "tools/plan/*.py",
    "tools/pulumi_mocks.py",
    "backup/scheduler/*.sh",
    "policies/*.py",
)
NEVER = ("*/__init__.py", "tools/mutation/*", "policies/__main__.py")

_WIRING = (
    "tests/test_wiring.py",
    "tests/test_provider_forms.py",
    "tests/test_upstream_facts.py",
    "tests/test_single_sources.py",
    "tests/test_config.py",
    "tests/backup/test_backup_module.py",
    "tests/test_program.py",
)
_CONFIG = (
    "tests/test_config.py",
    "tests/test_config_boundaries.py",
    "tests/backup/test_backup_module.py",
    "tests/proxmox/test_vm_config.py",
    "tests/test_upstream_facts.py",
    "tests/test_program.py",
)
_KUBERNETES = (
    "tests/kubernetes",
    "tests/policies/test_kubernetes_pod_rules.py",
    "tests/policies/test_kubernetes_cluster_rules.py",
    "tests/test_upstream_facts.py",
    "tests/test_own_stacks.py",
)
_ACCESS = ("tests/access", "tests/policies/test_access_rules.py", "tests/plan/test_plan_access.py")
_PROXMOX = (
    "tests/proxmox",
    "tests/test_upstream_facts.py",
    "tests/test_host_hardening.py",
    "tests/test_program.py",
)

RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("components/backup/retention.py", ("tests/backup/test_retention.py", "tests/backup/test_jobs.py")),
    (
        "components/backup/schedule.py",
        (
            "tests/backup/test_backup_module.py",
            "tests/test_single_sources.py",
            "tests/test_config_boundaries.py",
        ),
    ),
    (
        "components/backup/status.py",
        (
            "tests/backup/test_backup_module.py",
            "tests/backup/test_jobs.py",
            "tests/backup/test_restore_tool.py",
        ),
    ),
    ("components/backup/settings.py", ("tests/backup/test_backup_module.py", *_CONFIG)),
    (
        "components/backup/*.py",
        (
            "tests/backup/test_backup_module.py",
            *_WIRING,
            "tests/backup/test_failure_paths.py",
            "tests/backup/test_jobs.py",
        ),
    ),
    (
        "backup/scheduler/*",
        ("tests/backup/test_jobs.py", "tests/backup/test_failure_paths.py", "tests/backup"),
    ),
    ("components/config.py", _CONFIG),
    ("components/config_reader.py", _CONFIG),
    ("components/vm_config.py", ("tests/proxmox/test_vm_config.py", *_PROXMOX)),
    ("components/cloud_init.py", ("tests/test_host_hardening.py", *_PROXMOX)),
    ("components/proxmox_*.py", _PROXMOX),
    ("components/host_keys.py", _PROXMOX),
    ("components/firewall_probe.py", _PROXMOX),
    ("components/docker_host.py", ("tests/test_program.py", *_PROXMOX)),
    ("components/access/*.py", _ACCESS),
    ("components/kubernetes/*.py", _KUBERNETES),
    ("components/*.py", _WIRING),
    ("tools/verify/kubernetes.py", ("tests/kubernetes/test_tools.py", "tests/verify")),
    ("tools/verify/access.py", ("tests/verify/test_access_checks.py", "tests/access", "tests/verify")),
    ("tools/verify/*.py", ("tests/verify",)),
    ("tools/crd_subset.py", ("tests/kubernetes/test_schemas.py",)),
    ("tools/etcd_recovery.py", ("tests/kubernetes/test_restore.py", "tests/kubernetes/test_tools.py")),
    ("tools/restore_kube*.py", ("tests/kubernetes/test_restore.py", "tests/kubernetes/test_tools.py")),
    ("tools/restore.py", ("tests/backup/test_restore_tool.py", "tests/kubernetes/test_restore.py")),
    ("tools/restore*.py", ("tests/backup/test_restore_tool.py",)),
    ("tools/plan/*.py", ("tests/plan",)),
    ("tools/pulumi_mocks.py", ("tests/test_program.py", "tests/plan", "tests/proxmox")),
    (
        "tools/_cli.py",
        (
            "tests/verify/test_usage_and_stack.py",
            "tests/backup/test_restore_tool.py",
            "tests/plan/test_plan_cli.py",
        ),
    ),
    ("policies/*.py", ("tests/policies", "tests/test_single_sources.py")),
)


def tests_for(path: str) -> tuple[str, ...]:
    for pattern, tests in RULES:
        if fnmatch(path, pattern):
            return tests
    return ("tests",)


def selected(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(path, p) for p in patterns) and not any(fnmatch(path, p) for p in NEVER)
