"""Authentication on: milvus-lite itself accepts any client, so here its real gRPC servicer runs behind a
server interceptor that refuses calls the way Milvus's proxy does (internal/proxy/authentication_interceptor.go:
gRPC UNAUTHENTICATED, "auth check failure, please check username and password are correct", or
"missing authorization in header"). The tool and pymilvus talk real gRPC to it.

Not covered here: a real Milvus's user store (password changes, RBAC); only the protocol-level refusal.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from milvus_lite.adapter.grpc.servicer import MilvusServicer
from milvus_lite.db import MilvusLite
from pymilvus.grpc_gen import milvus_pb2_grpc

from tests.verify.conftest import run_verify

USER, PASSWORD = "root", "Auth-Test-Pa55word"


class AuthEnforcingInterceptor(grpc.ServerInterceptor):
    """Refuses every call whose `authorization` header is not base64("root:<password>"), as Milvus does."""

    def __init__(self, expected: str) -> None:
        self.expected = base64.b64encode(expected.encode()).decode()

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        headers = dict(details.invocation_metadata)
        given = headers.get("authorization")
        if given == self.expected:
            return continuation(details)
        reason = (
            "missing authorization in header"
            if given is None
            else "auth check failure, please check username and password are correct"
        )

        def refuse(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

        return grpc.unary_unary_rpc_method_handler(refuse)


@pytest.fixture(scope="module")
def milvus_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """milvus-lite's servicer and engine, served by a gRPC server with the auth interceptor in front."""
    db = MilvusLite(str(tmp_path_factory.mktemp("auth-lite")))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        interceptors=[AuthEnforcingInterceptor(f"{USER}:{PASSWORD}")],
    )
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(MilvusServicer(db), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop(grace=1)
        db.close()


SMALL = ["--rows", "200", "--dim", "16", "--timeout", "3", "--json"]


def test_credentials_accepted_and_anonymous_refused(milvus_with_auth: str) -> None:
    run = run_verify(
        "--milvus-uri",
        milvus_with_auth,
        "--milvus-user",
        USER,
        "--require-auth",
        *SMALL,
        env={"MILVUS_PASSWORD": PASSWORD},
    )

    assert run.exit_code == 0, run.stdout
    auth = run.check("milvus.auth")
    assert auth["verdict"] == "pass" and "refused" in auth["detail"]
    assert run.check("collection.drop")["verdict"] == "pass"
    assert PASSWORD not in run.stdout + run.stderr


def test_wrong_password_is_a_clear_failure(milvus_with_auth: str) -> None:
    run = run_verify("--milvus-uri", milvus_with_auth, "--token", f"{USER}:wrong-password", *SMALL)

    assert run.exit_code == 1
    assert run.check("milvus.connect")["detail"] == f"{milvus_with_auth} refused the credentials given"
    assert run.check("collection.create")["verdict"] == "not checked"


def test_no_credentials_says_which_flags_to_pass(milvus_with_auth: str) -> None:
    run = run_verify("--milvus-uri", milvus_with_auth, *SMALL)

    assert run.exit_code == 1
    assert "requires authentication: pass --milvus-user" in run.check("milvus.connect")["detail"]
