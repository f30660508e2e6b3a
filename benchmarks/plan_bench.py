"""Wall time of the offline plan against the floor of importing the SDKs it cannot avoid.

    .venv/bin/python benchmarks/plan_bench.py [--stack dev] [--runs 7] [--json]

The floor is `python -c "import pulumi, pulumi_docker, pulumi_proxmoxve, pulumi_policy"`: any offline
plan of this program pays at least that. Runs alternate (floor, plan, floor, plan ...) after one warm-up
of each, so a busy machine slows both sides alike; the report is the median of each and their ratio.
The plan's own exit status 1 (a mandatory violation) is a normal result here; anything else is a failure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FLOOR_IMPORTS = "import pulumi, pulumi_docker, pulumi_proxmoxve, pulumi_policy"
TARGET_RATIO = 2.0


@dataclass(frozen=True)
class BenchResult:
    stack: str
    runs: int
    floor_median_s: float
    plan_median_s: float
    ratio: float
    floor_samples_s: tuple[float, ...]
    plan_samples_s: tuple[float, ...]


def timed(command: Sequence[str], accepted: Sequence[int]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in accepted:
        tail = " ".join(result.stderr.split()[-60:])
        raise SystemExit(f"plan_bench: `{' '.join(command)}` exited {result.returncode}: {tail}")
    return elapsed


def measure(stack: str, runs: int, python: str = sys.executable) -> BenchResult:
    floor_cmd = [python, "-c", FLOOR_IMPORTS]
    plan_cmd = [python, "-m", "tools.plan", "--stack", stack]
    timed(floor_cmd, (0,))  # warm-up: the first import of the SDKs reads them from disk
    timed(plan_cmd, (0, 1))
    floor, plan = [], []
    for _ in range(runs):
        floor.append(timed(floor_cmd, (0,)))
        plan.append(timed(plan_cmd, (0, 1)))
    floor_median, plan_median = statistics.median(floor), statistics.median(plan)
    return BenchResult(
        stack=stack,
        runs=runs,
        floor_median_s=round(floor_median, 3),
        plan_median_s=round(plan_median, 3),
        ratio=round(plan_median / floor_median, 2),
        floor_samples_s=tuple(round(s, 3) for s in floor),
        plan_samples_s=tuple(round(s, 3) for s in plan),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each command (default 7)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    result = measure(args.stack, args.runs)
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print(f"floor  python -c '{FLOOR_IMPORTS}'  median {result.floor_median_s:.3f} s")
        print(f"plan   python -m tools.plan --stack {args.stack}  median {result.plan_median_s:.3f} s")
        verdict = "within" if result.ratio <= TARGET_RATIO else "over"
        print(f"ratio  {result.ratio:.2f}x ({verdict} the {TARGET_RATIO:.0f}x target; {args.runs} runs each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
