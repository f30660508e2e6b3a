"""Benchmark `python -m tools.verify --bench` against milvus-lite on loopback and print the numbers.

    .venv/bin/python benchmarks/bench_verify.py [extra tools.verify flags, e.g. --bench-rows 50000]

Starts `milvus-lite server` on a free 127.0.0.1 port with a throw-away data directory, runs the tool
with `--bench --json`, prints insert rows/s, search p50/p95/p99, QPS and recall@10, and stops the server.
milvus-lite is an embedded, exact-search engine: its numbers measure the tool and the protocol path,
not what the lab's Milvus standalone will do.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = ["--bench-rows", "20000", "--dim", "128", "--queries", "500", "--concurrency", "8"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: milvus-lite did not start listening on 127.0.0.1:{port}")


def main(extra: list[str]) -> int:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-milvus-lite-") as data_dir:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "milvus_lite",
                "server",
                "--data-dir",
                data_dir,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port, server)
            command = [
                sys.executable,
                "-m",
                "tools.verify",
                "--milvus-uri",
                f"http://127.0.0.1:{port}",
                "--bench",
                "--json",
                *DEFAULTS,
                *extra,
            ]
            print("$ python " + " ".join(command[1:]), flush=True)
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        finally:
            server.terminate()
            server.wait(timeout=10)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        sys.stderr.write(done.stderr)
        return done.returncode or 1
    report = json.loads(done.stdout)
    bench = report["bench"]
    if bench is None:
        failed = [c for c in report["checks"] if c["verdict"] == "fail"]
        print("bench: no numbers; failed checks: " + "; ".join(f"{c['name']}: {c['detail']}" for c in failed))
        return 1
    print(
        f"server                 {next(c['detail'] for c in report['checks'] if c['name'] == 'milvus.connect')}"
    )
    print(f"rows x dim, metric     {bench['rows']} x {bench['dim']}, {bench['metric']}")
    print(
        f"insert                 {bench['insert_rows_per_second']:,.0f} rows/s (batch {bench['batch_size']})"
    )
    print(
        f"search latency         p50 {bench['search_p50_ms']} ms, p95 {bench['search_p95_ms']} ms, "
        f"p99 {bench['search_p99_ms']} ms"
    )
    print(
        f"search throughput      {bench['search_qps']:,.1f} QPS at concurrency {bench['concurrency']} "
        f"({bench['queries']} queries)"
    )
    print(f"recall@10              {bench['recall_at_10']}")
    return int(report["exitCode"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
