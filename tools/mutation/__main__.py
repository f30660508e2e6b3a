"""`python -m tools.mutation [--files GLOB ...] [--jobs N] [--results FILE] [--list]`.

Generates the mutants of the selected files (default: targets.DEFAULT_FILES), runs the covering tests
against each in scratch copies of the repository (one per job), records every outcome in a JSON-lines
results file as it goes (a rerun with the same file skips mutants already judged), and prints the score:
killed / (total - equivalent), and every survivor. Exit 0 when the score reaches --goal, 1 otherwise.

Examples:
  make mutation                                              # everything, 2 jobs
  python -m tools.mutation --files 'policies/*.py' --jobs 2  # the policy pack only
  python -m tools.mutation --files 'backup/scheduler/*.sh' --list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from queue import Queue

from tools._cli import COPY_SKIPS, REPO_ROOT
from tools.mutation.mutants import Mutant, mutants_of
from tools.mutation.targets import DEFAULT_FILES, selected, tests_for

EQUIVALENT_FILE = Path(__file__).with_name("equivalent.txt")


@dataclass(frozen=True)
class Outcome:
    id: str
    path: str
    line: int
    operator: str
    description: str
    status: str  # killed | survived | timeout | error
    seconds: float
    tests: str


def equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    """Mutant id -> why it cannot change behaviour (`id  reason` lines; `#` comments)."""
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                mutant_id, _, reason = line.partition(" ")
                found[mutant_id] = reason.strip()
    return found


def collect(root: Path, patterns: tuple[str, ...]) -> list[Mutant]:
    files = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts
    )
    found: list[Mutant] = []
    for relative in files:
        if selected(relative, patterns):
            found.extend(mutants_of(root, relative))
    return found


def in_sample(mutant: Mutant, share: float) -> bool:
    return share >= 1.0 or int(hashlib.sha1(mutant.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def pytest_command(tests: tuple[str, ...]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-o",
        "addopts=",
        "--timeout",
        "300",
        *tests,
    ]


def run_tests(workdir: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    start = time.monotonic()
    try:
        done = subprocess.run(
            pytest_command(tests),
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    seconds = time.monotonic() - start
    if done.returncode == 0:
        return "survived", seconds
    if done.returncode in (1, 3):  # tests failed (3: an error inside a test run, e.g. a fixture)
        return "killed", seconds
    return "error", seconds  # 2 interrupted/usage, 4 usage, 5 nothing collected


def judge(mutant: Mutant, workdir: Path, timeout: float) -> Outcome:
    tests = tests_for(mutant.path)
    target = workdir / mutant.path
    original = target.read_text()
    try:
        target.write_text(mutant.apply(original))
        status, seconds = run_tests(workdir, tests, timeout)
    finally:
        target.write_text(original)
    return Outcome(
        mutant.id, mutant.path, mutant.line, mutant.operator, mutant.description, status, round(seconds, 1),
        " ".join(tests),
    )  # fmt: skip


def baseline(workdir: Path, mutants: list[Mutant], timeout: float) -> None:
    """Every test set must pass unmutated, or every mutant it judges would count as killed."""
    groups = sorted({tests_for(m.path) for m in mutants})
    with ThreadPoolExecutor(max_workers=2) as pool:
        for tests, (status, seconds) in zip(
            groups, pool.map(lambda tests: run_tests(workdir, tests, timeout), groups), strict=True
        ):
            print(f"baseline {' '.join(tests)}: {status} in {seconds:.0f}s", flush=True)
            if status != "survived":
                raise SystemExit(f"the unmutated tests fail ({status}): {' '.join(tests)}")


def report(outcomes: list[Outcome], equivalent: dict[str, str], goal: float) -> int:
    total = len(outcomes)
    killed = [o for o in outcomes if o.status in ("killed", "timeout")]
    survivors = [o for o in outcomes if o.status == "survived"]
    errors = [o for o in outcomes if o.status == "error"]
    equal = [o for o in survivors if o.id in equivalent]
    left = [o for o in survivors if o.id not in equivalent]
    judged = total - len(equal)
    score = len(killed) / judged if judged else 1.0
    print(f"\nmutants: {total}; killed {len(killed)} (timeouts {sum(o.status == 'timeout' for o in killed)}); "
          f"survived {len(survivors)} ({len(equal)} equivalent); errors {len(errors)}")  # fmt: skip
    print(f"score: {len(killed)} / {judged} non-equivalent = {score:.1%} (goal {goal:.0%})")
    for outcome in equal:
        print(f"  equivalent {outcome.id}  {outcome.description}: {equivalent[outcome.id]}")
    for outcome in left:
        print(f"  SURVIVED   {outcome.id}  {outcome.description}")
    for outcome in errors:
        print(f"  ERROR      {outcome.id}  {outcome.description} (pytest could not run: see the file)")
    return 0 if score >= goal and not errors else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES), help="globs relative to the repo")
    parser.add_argument("--jobs", type=int, default=2, help="mutants judged at once (default 2)")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / ".mutation" / "results.jsonl")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant's test run")
    parser.add_argument("--goal", type=float, default=0.95, help="score needed for exit 0 (default 0.95)")
    parser.add_argument(
        "--sample",
        type=float,
        default=1.0,
        help="judge only this share of the mutants, chosen by a digest of their ids (stable across runs)",
    )
    parser.add_argument("--rejudge", action="store_true", help="judge survivors in the results file again")
    parser.add_argument("--only", nargs="+", default=(), help="judge only these mutant ids")
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    parser.add_argument("--report-only", action="store_true", help="report the results file, run nothing")
    args = parser.parse_args(argv)

    mutants = [m for m in collect(REPO_ROOT, tuple(args.files)) if in_sample(m, args.sample)]
    if args.only:
        mutants = [m for m in mutants if m.id in args.only]
    if args.list:
        for mutant in mutants:
            print(f"{mutant.id}  {mutant.description}")
        print(f"{len(mutants)} mutants")
        return 0
    args.results.parent.mkdir(parents=True, exist_ok=True)
    done: dict[str, Outcome] = {}
    if args.results.exists():
        for line in args.results.read_text().splitlines():
            outcome = Outcome(**json.loads(line))
            if not (args.rejudge and outcome.status in ("survived", "error")):
                done[outcome.id] = outcome
    wanted = {m.id for m in mutants}
    todo = [m for m in mutants if m.id not in done]
    print(f"{len(mutants)} mutants, {len(mutants) - len(todo)} already judged in {args.results}", flush=True)

    if todo and not args.report_only:
        scratch = Path(tempfile.mkdtemp(prefix="mutation-"))
        workdirs: Queue[Path] = Queue()
        try:
            for index in range(args.jobs):
                copy = scratch / f"repo-{index}"
                shutil.copytree(REPO_ROOT, copy, ignore=COPY_SKIPS, symlinks=True)
                workdirs.put(copy)
            baseline(workdirs.queue[0], todo, args.timeout)

            def work(mutant: Mutant) -> Outcome:
                workdir = workdirs.get()
                try:
                    return judge(mutant, workdir, args.timeout)
                finally:
                    workdirs.put(workdir)

            with ThreadPoolExecutor(max_workers=args.jobs) as pool, args.results.open("a") as results:
                for count, outcome in enumerate(pool.map(work, todo), start=1):
                    results.write(json.dumps(asdict(outcome)) + "\n")
                    results.flush()
                    done[outcome.id] = outcome
                    print(f"[{count}/{len(todo)}] {outcome.status:8} {outcome.seconds:5.0f}s {outcome.id}  "
                          f"{outcome.description}", flush=True)  # fmt: skip
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return report([done[m.id] for m in mutants if m.id in done and m.id in wanted], equivalents(), args.goal)


if __name__ == "__main__":
    sys.exit(main())
