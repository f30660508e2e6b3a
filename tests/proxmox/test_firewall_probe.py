"""The firewall probe's decision, against real sockets on loopback: refused, connected and timed out."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from components.firewall_probe import Outcome, probe, verdict
from tests.ports import free_port


def test_a_closed_port_answers_refused_which_means_not_enforced() -> None:
    # What a VM without an enforced firewall does: the kernel resets the connection.
    port = free_port()
    assert probe("127.0.0.1", port, 2.0) is Outcome.REFUSED
    message = verdict(Outcome.REFUSED, "10.25.20.20", 2379)
    assert message and "NOT enforced" in message and "Datacenter > Firewall" in message


def test_a_listening_port_connects_which_also_means_not_enforced() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert probe("127.0.0.1", server.getsockname()[1], 2.0) is Outcome.CONNECTED
    message = verdict(Outcome.CONNECTED, "10.25.20.20", 2379)
    assert message and "NOT enforced" in message


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener whose accept queue is full: Linux then drops further SYNs, as a DROP firewall does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the queue (its length is backlog + 1), never accepting
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        fillers.append(client)
    try:
        yield port
    finally:
        for client in fillers:
            client.close()
        server.close()


def test_dropped_packets_time_out_which_means_enforced(full_backlog: int) -> None:
    assert probe("127.0.0.1", full_backlog, 0.5) is Outcome.TIMEOUT
    assert verdict(Outcome.TIMEOUT, "10.25.20.20", 2379) is None


def test_an_unreachable_address_is_reported_as_unchecked() -> None:
    # Port 0 cannot be connected to: the kernel refuses it with an error other than a reset.
    outcome = probe("127.0.0.1", 0, 0.5)
    assert outcome in (Outcome.UNREACHABLE, Outcome.REFUSED)
    message = verdict(Outcome.UNREACHABLE, "10.25.20.20", 2379)
    assert message and "could not check" in message
