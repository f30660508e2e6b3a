"""Milvus checks through the real client (pymilvus `MilvusClient`): connection, authentication, a temporary
collection's whole life (create, insert, flush, search, query, recall, drop) and the benchmark.

Recall is measured, not assumed: the same random vectors are searched exhaustively here with numpy, and
the server's top 10 is compared with the exact top 10.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from pymilvus import MilvusClient
from rich.progress import Progress

from components.access.connection import is_unauthenticated
from tools.verify.core import (
    CheckFailed,
    CheckResult,
    CheckWarning,
    NotChecked,
    Redactor,
    Verdict,
    run_check,
)

TOP_K = 10
METRICS = ("L2", "IP", "COSINE")
COLLECTION_PREFIX = "verify_tmp_"

# pymilvus logs every failed RPC at ERROR level with a full traceback; verify reports failures itself.
logging.getLogger("pymilvus").setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True)
class MilvusTarget:
    uri: str
    user: str | None
    token: str | None = field(repr=False)  # "user:password" or an API key; never shown
    timeout: float  # connecting and metadata calls
    op_timeout: float  # calls that move data (insert batches, flush, index build and load)
    require_auth: bool = False


@dataclass(frozen=True)
class Workload:
    rows: int
    dim: int
    metric: str
    queries: int
    batch_size: int = 1000
    concurrency: int = 1
    seed: int = 7
    min_recall: float = 0.9


@dataclass(frozen=True)
class BenchResult:
    rows: int
    dim: int
    metric: str
    batch_size: int
    insert_seconds: float
    insert_rows_per_second: float
    queries: int
    concurrency: int
    search_p50_ms: float
    search_p95_ms: float
    search_p99_ms: float
    search_qps: float
    recall_at_10: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def connect(target: MilvusTarget, token: str | None) -> MilvusClient:
    # dedicated=True: pymilvus otherwise shares one channel per address, so "without credentials"
    # could silently reuse the authenticated one.
    return MilvusClient(uri=target.uri, token=token or "", timeout=target.timeout, dedicated=True)


def random_vectors(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return rng.random((count, dim), dtype=np.float32)


def exact_top_k(base: np.ndarray, queries: np.ndarray, metric: str, k: int = TOP_K) -> np.ndarray:
    """Exact nearest neighbours (row indices, best first) by brute force, as Milvus ranks them."""
    if metric == "L2":
        scores = -((queries**2).sum(axis=1)[:, None] - 2 * queries @ base.T + (base**2).sum(axis=1)[None, :])
    elif metric == "IP":
        scores = queries @ base.T
    else:  # COSINE
        scores = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ (
            base / np.linalg.norm(base, axis=1, keepdims=True)
        ).T
    k = min(k, base.shape[0])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    result: np.ndarray = np.take_along_axis(top, order, axis=1)
    return result


def recall_at_k(found: list[list[int]], truth: np.ndarray) -> float:
    """Mean share of the exact top k that the server returned."""
    k = truth.shape[1]
    hits = [len(set(ids[:k]) & set(truth[i].tolist())) / k for i, ids in enumerate(found)]
    return statistics.fmean(hits) if hits else 0.0


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the value below which `share` of the samples fall."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(np.ceil(share * len(ordered))) - 1))
    return ordered[rank]


@contextmanager
def progress_task(progress: Progress, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    task = progress.add_task(description, total=total)
    try:
        yield lambda n: progress.advance(task, n)
    finally:
        progress.remove_task(task)


class TemporaryCollection:
    """A collection that exists only while verify runs. `drop()` runs in a `finally`, so it is removed
    even after a failed step or Ctrl-C."""

    def __init__(self, client: MilvusClient, target: MilvusTarget, workload: Workload, purpose: str) -> None:
        self.client = client
        self.target = target
        self.workload = workload
        self.name = f"{COLLECTION_PREFIX}{purpose}_{secrets.token_hex(4)}"
        rng = np.random.default_rng(workload.seed)
        self.vectors = random_vectors(workload.rows, workload.dim, rng)
        self.queries = random_vectors(workload.queries, workload.dim, rng)
        self.created = False
        self.inserted = 0

    def create(self) -> str:
        # Quick mode: int64 primary key `id`, float vector `vector`, an AUTOINDEX, loaded. Strong
        # consistency so the search right after the insert sees every row.
        self.client.create_collection(
            self.name,
            dimension=self.workload.dim,
            metric_type=self.workload.metric,
            consistency_level="Strong",
            timeout=self.target.op_timeout,
        )
        self.created = True
        return f"{self.name} (dim {self.workload.dim}, {self.workload.metric})"

    def insert(self, progress: Progress) -> float:
        """Insert every row in batches; returns the seconds it took."""
        start = time.perf_counter()
        size = self.workload.batch_size
        with progress_task(progress, f"insert {self.workload.rows} rows", self.workload.rows) as advance:
            for offset in range(0, self.workload.rows, size):
                batch = self.vectors[offset : offset + size]
                rows = [{"id": offset + i, "vector": vector.tolist()} for i, vector in enumerate(batch)]
                result = self.client.insert(self.name, rows, timeout=self.target.op_timeout)
                if result["insert_count"] != len(rows):
                    raise CheckFailed(f"insert of {len(rows)} rows reported {result['insert_count']}")
                self.inserted += len(rows)
                advance(len(rows))
        return time.perf_counter() - start

    def flush(self) -> str:
        self.client.flush(self.name, timeout=self.target.op_timeout)
        return f"{self.inserted} rows flushed"

    def search(self, vectors: np.ndarray) -> list[list[int]]:
        results = self.client.search(
            self.name, vectors.tolist(), limit=TOP_K, output_fields=["id"], timeout=self.target.op_timeout
        )
        return [[int(hit["id"]) for hit in hits] for hits in results]

    def drop(self) -> str:
        if not self.client.has_collection(self.name, timeout=self.target.timeout):
            if self.created:
                raise CheckFailed(f"{self.name} vanished before it was dropped")
            raise NotChecked("nothing to drop: the collection was never created")
        self.client.drop_collection(self.name, timeout=self.target.timeout)
        if self.client.has_collection(self.name, timeout=self.target.timeout):
            raise CheckFailed(f"{self.name} still exists after drop_collection")
        return f"{self.name} dropped"


class MilvusChecks:
    """Runs the Milvus checks in order; later checks report "not checked" when the connection failed."""

    def __init__(self, target: MilvusTarget, redact: Redactor, progress: Progress) -> None:
        self.target = target
        self.redact = redact
        self.progress = progress
        self.client: MilvusClient | None = None
        self.results: list[CheckResult] = []

    def _run(self, name: str, check: Callable[[], str]) -> CheckResult:
        result = run_check(name, check, self.redact)
        self.results.append(result)
        return result

    def _need_client(self) -> MilvusClient:
        if self.client is None:
            raise NotChecked("no connection to Milvus")
        return self.client

    # -- connection and authentication --------------------------------------------------------------

    def _connect(self) -> str:
        try:
            self.client = connect(self.target, self.target.token)
        except Exception as error:
            if is_unauthenticated(error):
                raise CheckFailed(
                    f"{self.target.uri} refused the credentials given"
                    if self.target.token
                    else f"{self.target.uri} requires authentication: pass --milvus-user and "
                    "--milvus-password (or --token)"
                ) from error
            raise CheckFailed(
                f"cannot connect to Milvus at {self.target.uri} (timeout {self.target.timeout:g}s): "
                f"{getattr(error, 'message', None) or type(error).__name__}"
            ) from error
        version = self.client.get_server_version(timeout=self.target.timeout)
        who = (
            f" as {self.target.user}" if self.target.user else (" with a token" if self.target.token else "")
        )
        return f"{self.target.uri}{who}: server {version}"

    def _collections(self) -> str:
        names = self._need_client().list_collections(timeout=self.target.timeout)
        shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
        return f"{len(names)} collections" + (f": {shown}" if names else "")

    def _auth(self) -> str:
        self._need_client()
        anonymous: MilvusClient | None = None
        try:
            anonymous = connect(self.target, None)
            anonymous.list_collections(timeout=self.target.timeout)
        except Exception as error:
            if is_unauthenticated(error):
                if not self.target.token:
                    raise CheckFailed("anonymous access refused, yet no credentials were given") from error
                return "authentication on: the given credentials work, a client without them is refused"
            raise CheckFailed(f"the check without credentials failed for another reason: {error}") from error
        finally:
            if anonymous is not None:
                anonymous.close()
        message = "authentication is off: anyone who reaches the port can read and change all data"
        if self.target.require_auth:
            raise CheckFailed(f"{message} (--require-auth)")
        raise CheckWarning(f"{message}; --require-auth makes this a failure")

    def connection(self) -> None:
        self._run("milvus.connect", self._connect)
        self._run("milvus.collections", self._collections)
        self._run("milvus.auth", self._auth)

    # -- the temporary collection ---------------------------------------------------------------------

    def collection_lifecycle(self, workload: Workload) -> None:
        if self.client is None:
            for step in ("create", "insert", "flush", "search", "query", "recall", "drop"):
                self._run(f"collection.{step}", self._need_client)
            return
        collection = TemporaryCollection(self.client, self.target, workload, "check")
        found: list[list[int]] = []

        def insert() -> str:
            seconds = collection.insert(self.progress)
            return f"{collection.inserted} rows of dim {workload.dim} in {seconds:.2f}s"

        def search() -> str:
            found.extend(collection.search(collection.queries))
            short = [i for i, ids in enumerate(found) if len(ids) < min(TOP_K, workload.rows)]
            if short:
                raise CheckFailed(f"{len(short)} of {len(found)} searches returned fewer than {TOP_K} hits")
            return f"{len(found)} queries, top {TOP_K} each"

        def query() -> str:
            wanted = sorted({0, workload.rows // 2, workload.rows - 1})
            rows = collection.client.query(
                collection.name, ids=wanted, output_fields=["id"], timeout=self.target.timeout
            )
            got = sorted(int(row["id"]) for row in rows)
            if got != wanted:
                raise CheckFailed(f"query by id {wanted} returned {got}")
            return f"ids {wanted} found"

        def recall() -> str:
            if not found:
                raise NotChecked("no search results")
            value = recall_at_k(found, exact_top_k(collection.vectors, collection.queries, workload.metric))
            detail = f"recall@{TOP_K} {value:.3f} against exact brute-force results"
            if value < workload.min_recall:
                raise CheckFailed(f"{detail}: below --min-recall {workload.min_recall}")
            return detail

        try:
            steps: list[tuple[str, Callable[[], str]]] = [
                ("create", collection.create),
                ("insert", insert),
                ("flush", collection.flush),
                ("search", search),
                ("query", query),
                ("recall", recall),
            ]
            failed = False
            for step, check in steps:
                if failed:
                    self._run(f"collection.{step}", lambda: _not_checked("an earlier step failed"))
                    continue
                failed = self._run(f"collection.{step}", check).verdict is Verdict.FAIL
        finally:
            self._run("collection.drop", collection.drop)

    # -- the benchmark --------------------------------------------------------------------------------

    def bench(self, workload: Workload) -> BenchResult | None:
        if self.client is None:
            self._run("bench", self._need_client)
            return None
        collection = TemporaryCollection(self.client, self.target, workload, "bench")
        outcome: list[BenchResult] = []

        def run() -> str:
            collection.create()
            insert_seconds = collection.insert(self.progress)
            collection.flush()
            latencies, wall, found = self._timed_searches(collection, workload)
            truth = exact_top_k(collection.vectors, collection.queries, workload.metric)
            result = BenchResult(
                rows=workload.rows,
                dim=workload.dim,
                metric=workload.metric,
                batch_size=workload.batch_size,
                insert_seconds=round(insert_seconds, 3),
                insert_rows_per_second=round(workload.rows / insert_seconds, 1),
                queries=workload.queries,
                concurrency=workload.concurrency,
                search_p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
                search_p95_ms=round(percentile(latencies, 0.95) * 1000, 2),
                search_p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
                search_qps=round(workload.queries / wall, 1),
                recall_at_10=round(recall_at_k(found, truth), 4),
            )
            outcome.append(result)
            return (
                f"insert {result.insert_rows_per_second:.0f} rows/s; search p50 {result.search_p50_ms} ms, "
                f"p95 {result.search_p95_ms} ms, p99 {result.search_p99_ms} ms, {result.search_qps} QPS "
                f"at concurrency {workload.concurrency}; recall@{TOP_K} {result.recall_at_10}"
            )

        try:
            self._run("bench", run)
        finally:
            self._run("bench.drop", collection.drop)
        return outcome[0] if outcome else None

    def _timed_searches(
        self, collection: TemporaryCollection, workload: Workload
    ) -> tuple[list[float], float, list[list[int]]]:
        """One query per request, `concurrency` requests in flight; returns latencies, wall time, results."""

        def one(index: int) -> tuple[float, list[int]]:
            start = time.perf_counter()
            ids = collection.search(collection.queries[index : index + 1])[0]
            return time.perf_counter() - start, ids

        # A few untimed searches first: the first request pays for channel and cache warm-up.
        for index in range(min(5, workload.queries)):
            one(index)
        with (
            progress_task(self.progress, f"search {workload.queries} queries", workload.queries) as advance,
            ThreadPoolExecutor(max_workers=workload.concurrency) as pool,
        ):
            start = time.perf_counter()
            outcomes = []
            for outcome in pool.map(one, range(workload.queries)):
                outcomes.append(outcome)
                advance(1)
            wall = time.perf_counter() - start
        return [latency for latency, _ in outcomes], wall, [ids for _, ids in outcomes]

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def _not_checked(reason: str) -> str:
    raise NotChecked(reason)
