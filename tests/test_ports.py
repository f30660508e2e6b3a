"""tests/ports.py: the ports test servers get are distinct, free, and outside the kernel's ephemeral range."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests import ports


def test_ports_are_distinct_free_and_below_the_ephemeral_range() -> None:
    chosen = ports.free_ports(40)
    assert len(set(chosen)) == 40
    assert all(ports.LOWEST <= port < ports.ephemeral_low() for port in chosen)
    assert all(ports.is_free(port) for port in chosen)


def test_a_port_someone_listens_on_is_not_free() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not ports.is_free(listener.getsockname()[1])


@pytest.mark.parametrize(
    ("content", "expected"),
    [("32768\t60999\n", 32768), ("40000 65000", 40000), ("", 32768), ("garbage", 32768)],
)
def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path: Path, content: str, expected: int) -> None:
    path = tmp_path / "ip_local_port_range"
    path.write_text(content)
    assert ports.ephemeral_low(path) == expected
    assert ports.ephemeral_low(tmp_path / "absent") == 32768


def test_it_refuses_when_the_range_leaves_no_room(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "ephemeral_low", lambda: ports.LOWEST + 2)
    assert len(ports.free_ports(2)) == 2
    with pytest.raises(RuntimeError, match="no room for 3 ports"):
        ports.free_ports(3)
