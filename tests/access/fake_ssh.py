"""A stand-in for `ssh -N -L 127.0.0.1:PORT:HOST:HOSTPORT [-p N] USER@HOST` with no SSH server: it forwards
the local port to HOST:HOSTPORT itself, so the tunnel code (its command line, waiting for the forward,
ending it) runs for real against the real Milvus. It writes its argv to $FAKE_SSH_LOG; with $FAKE_SSH_FAIL
it fails as ssh does when it cannot log in (message on stderr, exit 255)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def main(argv: list[str]) -> int:
    if os.environ.get("FAKE_SSH_LOG"):
        with open(os.environ["FAKE_SSH_LOG"], "a") as log:
            log.write(json.dumps(argv) + "\n")
    if os.environ.get("FAKE_SSH_FAIL"):
        sys.stderr.write("deploy@10.25.20.20: Permission denied (publickey).\n")
        return 255
    spec = argv[argv.index("-L") + 1]
    bind, port, host, host_port = spec.rsplit(":", 3)
    listener = socket.create_server((bind, int(port)))
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((host.strip("[]"), int(host_port)))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
