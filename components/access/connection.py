"""How the machine running `pulumi up` reaches Milvus, and what it says when it cannot.

`Endpoint` is where Milvus is (its `milvusUri`) and the way there:
- targets `local` and `kubernetes`: directly (on kubernetes through the NodePort/LoadBalancer address, or
  the `kubectl port-forward` the stack output `kubernetes.portForward` gives for a ClusterIP service);
- targets `ssh` and `proxmox`: through an SSH tunnel to the Docker host, with the same ssh options the
  docker provider uses (host key checked, never added; keys from the SSH agent). The tunnel reaches Milvus's
  published port from the host itself, so neither a firewall opening for the deploying machine nor a
  non-loopback `publishAddress` is needed: where Docker works, access works.

`open_session` waits (bounded by `wait_seconds`: Milvus on Kubernetes comes up minutes after its resource is
applied) until Milvus answers, logs in, and yields a `Session` whose every call is wrapped: a failure
becomes an `AccessError` naming the URI and the operation, with every password it knows replaced by `****`.
pymilvus's own logging of failed calls (a traceback per failure) is silenced; the error says what matters.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

T = TypeVar("T")

CALL_TIMEOUT_S = 30.0  # every RPC; pymilvus otherwise retries unreachable calls for minutes
CONNECT_TIMEOUT_S = 10.0
# Reads and deletes wait this long at most for a Milvus that does not answer (a refresh of a stack whose
# Milvus is down should fail soon); creates and updates wait the endpoint's `wait_seconds`.
IMPATIENT_WAIT_S = 15.0
TUNNEL_START_S = 30.0
RETRY_PAUSE_S = 1.0


class AccessError(Exception):
    """A Milvus access operation that did not happen; the message names the URI and the operation and never
    holds a password."""


class LoginRefused(AccessError):
    """Milvus answered and refused the password: a wrong password, not an unreachable server."""


@dataclass(frozen=True)
class Endpoint:
    """Where Milvus is and how to get there (resource input `endpoint`; nothing secret in it)."""

    uri: str
    ssh_host: str | None = None  # ssh://user@host[:port]: tunnel through the Docker host
    ssh_options: tuple[str, ...] = ()
    wait_seconds: float = 60.0

    def to_wire(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "sshHost": self.ssh_host,
            "sshOptions": list(self.ssh_options),
            "waitSeconds": self.wait_seconds,
        }

    @staticmethod
    def from_wire(data: Mapping[str, Any]) -> Endpoint:
        return Endpoint(
            uri=str(data["uri"]),
            ssh_host=data.get("sshHost") or None,
            ssh_options=tuple(data.get("sshOptions") or ()),
            wait_seconds=float(data.get("waitSeconds") or 60.0),
        )

    def describe(self) -> str:
        return f"{self.uri} (through ssh {self.ssh_host})" if self.ssh_host else self.uri


@dataclass(frozen=True)
class Login:
    user: str
    password: str = field(repr=False)


def _quiet_pymilvus() -> None:
    """pymilvus logs every failed RPC with a traceback; its logging config is set when it is imported."""
    import pymilvus  # noqa: F401  (its import configures the loggers this overrides)

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL + 1)


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "****")
    return " ".join(text.split())


def reason_of(error: BaseException) -> str:
    """The server's own words: a MilvusException's message, a gRPC error's details, else the text."""
    import grpc

    message = getattr(error, "message", None)
    if isinstance(message, str) and message:
        return message
    if isinstance(error, grpc.RpcError):
        details = getattr(error, "details", None)
        if callable(details):
            return str(details())
    return str(error) or type(error).__name__


def is_unauthenticated(error: BaseException) -> bool:
    """Whether Milvus refused the login. Its auth interceptor answers gRPC UNAUTHENTICATED
    (internal/proxy/authentication_interceptor.go), which pymilvus wraps in "Fail connecting ..." with the
    status in the cause chain, or as a MilvusException of code 1400 / "auth check failure" / "missing
    authorization" by version; the chain can loop (pymilvus raises `e from e`), so it is walked once."""
    import grpc

    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "code", None)
        if (
            isinstance(current, grpc.RpcError)
            and callable(code)
            and code() == grpc.StatusCode.UNAUTHENTICATED
        ):
            return True
        text = str(current).lower()
        if code == 1400 or any(
            s in text for s in ("not authenticated", "auth check failure", "missing authorization")
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


# --------------------------------------------------------------------------------------------------
# The SSH tunnel (targets ssh and proxmox)
# --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _forward_target(uri: str) -> tuple[str, int]:
    """Milvus's address as the Docker host itself reaches it: the published address (a wildcard means any
    of the host's own, so loopback)."""
    parsed = urlparse(uri)
    host = parsed.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return host, parsed.port or 19530


def tunnel_command(endpoint: Endpoint, local_port: int, ssh: str = "ssh") -> list[str]:
    """`ssh -N -L` to the Docker host, failing at once when the forward cannot be set up."""
    target = urlparse(endpoint.ssh_host or "")
    if target.scheme != "ssh" or not target.hostname:
        raise AccessError(f"the Docker host {endpoint.ssh_host!r} is not an ssh://USER@HOST[:PORT] URL")
    host, port = _forward_target(endpoint.uri)
    remote = f"[{host}]" if ":" in host else host
    command = [ssh, *endpoint.ssh_options, "-N", "-o", "ExitOnForwardFailure=yes"]
    command += ["-L", f"127.0.0.1:{local_port}:{remote}:{port}"]
    if target.port:
        command += ["-p", str(target.port)]
    login = f"{target.username}@{target.hostname}" if target.username else target.hostname
    return [*command, login]


def _die_with_parent() -> None:
    """In the child before exec: end ssh when the provider process ends, however it ends (Linux)."""
    import sys

    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@contextlib.contextmanager
def ssh_tunnel(endpoint: Endpoint, operation: str, ssh: str = "ssh") -> Iterator[str]:
    """A local URI that reaches Milvus through the Docker host, for as long as the block runs."""
    port = _free_port()
    command = tunnel_command(endpoint, port, ssh)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
    except OSError as error:
        raise AccessError(
            f"cannot start `{command[0]}` to reach Milvus at {endpoint.describe()} ({operation}): {error.strerror}"
        ) from None
    try:
        deadline = time.monotonic() + TUNNEL_START_S
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise AccessError(
                    f"the SSH tunnel to {endpoint.ssh_host} for Milvus at {endpoint.uri} ended before it was "
                    f"up ({operation}), exit status {process.returncode}: {' '.join(stderr.split()) or 'no message'}"
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise AccessError(
                    f"the SSH tunnel to {endpoint.ssh_host} for Milvus at {endpoint.uri} was not up within "
                    f"{TUNNEL_START_S:.0f}s ({operation})"
                )
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()


# --------------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------------


class Session:
    """A logged-in connection to one Milvus for one operation. `call` runs one client call and turns any
    failure into an `AccessError` that names the URI, the operation and the step."""

    def __init__(
        self,
        endpoint: Endpoint,
        uri: str,
        login: Login,
        operation: str,
        secrets: Sequence[str],
        wait_seconds: float | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.wait_seconds = endpoint.wait_seconds if wait_seconds is None else wait_seconds
        self.uri = uri  # what the client dials (a tunnel's local end, or the endpoint itself)
        self.login = login
        self.operation = operation
        # pymilvus sends `user:password` base64-encoded: an echoed header must not leak it either.
        token = base64.b64encode(f"{login.user}:{login.password}".encode()).decode()
        self.secrets = [login.password, token, *secrets]
        self.timeout = CALL_TIMEOUT_S
        self._clients: dict[str, Any] = {}

    def client(self, database: str = "") -> Any:
        """A client whose calls run in `database` ("" = the server's default)."""
        if database not in self._clients:
            self._clients[database] = self.call(
                f"connect to database {database}" if database else "connect",
                lambda: _client(self.uri, self.login, database),
            )
        return self._clients[database]

    def login_works(self, user: str, password: str) -> bool:
        """Whether `user` logs in with `password` (through this session's way in): the only way to read
        a password back."""
        try:
            client = _client(self.uri, Login(user, password))
        except Exception as error:
            if is_unauthenticated(error):
                return False
            raise AccessError(self.failure(f"log in as {user}", error)) from None
        with contextlib.suppress(Exception):
            client.close()
        return True

    def call(self, step: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except AccessError:
            raise
        except Exception as error:
            raise AccessError(self.failure(step, error)) from None

    def failure(self, step: str, error: BaseException) -> str:
        return scrub(
            f"Milvus at {self.endpoint.describe()}: {self.operation}: {step} failed: {reason_of(error)}",
            self.secrets,
        )

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()


def _client(uri: str, login: Login, database: str = "") -> Any:
    from pymilvus import MilvusClient

    # dedicated: pymilvus otherwise shares one channel per address and token across clients.
    return MilvusClient(
        uri=uri,
        token=f"{login.user}:{login.password}",
        db_name=database,
        timeout=CONNECT_TIMEOUT_S,
        dedicated=True,
    )


def _wait_and_log_in(session: Session) -> None:
    """Connect, retrying while Milvus is not answering yet, until the endpoint's wait is over. A refused
    login is not retried: it will not get better by waiting."""
    deadline = time.monotonic() + session.wait_seconds
    while True:
        try:
            session._clients[""] = _client(session.uri, session.login)
            return
        except Exception as error:
            if is_unauthenticated(error):
                raise LoginRefused(
                    scrub(
                        f"Milvus at {session.endpoint.describe()} refused the login of `{session.login.user}` "
                        f"({session.operation}): the password Pulumi holds for it is not the one Milvus has",
                        session.secrets,
                    )
                ) from None
            if time.monotonic() + RETRY_PAUSE_S > deadline:
                raise AccessError(
                    scrub(
                        f"cannot reach Milvus at {session.endpoint.describe()} ({session.operation}; waited "
                        f"{session.wait_seconds:.0f}s): {reason_of(error)}",
                        session.secrets,
                    )
                ) from None
            time.sleep(RETRY_PAUSE_S)


@contextlib.contextmanager
def open_session(
    endpoint: Endpoint,
    login: Login,
    operation: str,
    secrets: Sequence[str] = (),
    ssh: str = "ssh",
    patient: bool = True,
) -> Iterator[Session]:
    """Reach Milvus (through the tunnel when the endpoint has one), log in and yield the session. A
    `patient` session waits the endpoint's `wait_seconds` for Milvus to answer, others IMPATIENT_WAIT_S."""
    _quiet_pymilvus()
    wait = endpoint.wait_seconds if patient else min(endpoint.wait_seconds, IMPATIENT_WAIT_S)
    with contextlib.ExitStack() as stack:
        uri = endpoint.uri
        if endpoint.ssh_host:
            uri = stack.enter_context(ssh_tunnel(endpoint, operation, ssh))
        session = Session(endpoint, uri, login, operation, secrets, wait)
        stack.callback(session.close)
        _wait_and_log_in(session)
        yield session


def can_log_in(
    endpoint: Endpoint, login: Login, operation: str, ssh: str = "ssh", patient: bool = True
) -> bool:
    """Whether `login` works: False for a refused login, AccessError when Milvus cannot be reached."""
    try:
        with open_session(endpoint, login, operation, ssh=ssh, patient=patient):
            return True
    except AccessError as error:
        if "refused the login" in str(error):
            return False
        raise
