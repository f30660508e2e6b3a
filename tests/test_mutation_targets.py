"""`make mutation` judges each mutant by the tests that own its file: the routing must point at real tests.

A rule naming a test path that does not exist would make pytest exit 4 (usage) for every mutant of the
files it matches; a production file left to the whole-suite fallback is judged, but slowly. Both would
quietly weaken the measurement, so they are checked here.
"""

from __future__ import annotations

from fnmatch import fnmatch

import pytest

from tools._cli import REPO_ROOT
from tools.mutation import targets
from tools.mutation.__main__ import collect, in_sample
from tools.mutation.mutants import Mutant
from tools.mutation.targets import DEFAULT_FILES, NEVER, RULES, selected


def selected_files() -> list[str]:
    return sorted({mutant.path for mutant in collect(REPO_ROOT, DEFAULT_FILES)})


def test_every_test_path_a_rule_names_exists() -> None:
    missing = sorted({t for _, tests in RULES for t in tests if not (REPO_ROOT / t).exists()})
    assert missing == []


def test_every_mutated_file_has_its_own_tests() -> None:
    assert [path for path in selected_files() if targets.tests_for(path) == ("tests",)] == []


@pytest.mark.parametrize(
    ("path", "expected_first"),
    [
        ("components/access/provider.py", "tests/access"),
        ("components/kubernetes/apps.py", "tests/kubernetes"),
        ("components/services.py", "tests/test_wiring.py"),
        ("tools/restore_kubectl.py", "tests/kubernetes/test_restore.py"),
        ("tools/restore_commands.py", "tests/backup/test_restore_tool.py"),
        ("tools/verify/access.py", "tests/verify/test_access_checks.py"),
        ("tools/verify/http.py", "tests/verify"),
        ("policies/access_rules.py", "tests/policies"),
    ],
)
def test_the_first_matching_rule_wins(path: str, expected_first: str) -> None:
    assert targets.tests_for(path)[0] == expected_first


@pytest.mark.parametrize(
    ("path", "chosen"),
    [
        ("components/kubernetes/apps.py", True),
        ("components/access/settings.py", True),
        ("tools/etcd_recovery.py", True),
        ("components/kubernetes/__init__.py", False),
        ("tools/mutation/targets.py", False),
        ("policies/__main__.py", False),
        ("tests/test_config.py", False),
    ],
)
def test_scope_takes_production_code_and_leaves_out_never(path: str, chosen: bool) -> None:
    assert selected(path, DEFAULT_FILES) is chosen
    assert any(fnmatch(path, p) for p in NEVER) is (not chosen and not path.startswith("tests/"))


def test_the_sample_is_the_same_on_every_run_and_grows_with_the_share() -> None:
    mutants = [Mutant("a.py", line, "int", "0 -> 1", 0, 1, "1") for line in range(1, 400)]
    small = {m.id for m in mutants if in_sample(m, 0.05)}
    large = {m.id for m in mutants if in_sample(m, 0.5)}
    assert small == {m.id for m in mutants if in_sample(m, 0.05)}
    assert small < large < {m.id for m in mutants}
    assert 0 < len(small) < 60 and 120 < len(large) < 280
