"""Free TCP ports for servers the tests start, chosen so that nothing else takes them before the server binds.

Asking the kernel for port 0 returns a port from the ephemeral range (net.ipv4.ip_local_port_range,
32768-60999 by default), the same range it draws from for every outgoing connection. A Milvus server that is
already running opens connections all the time, so a port picked that way and released was taken by one of
them before a second server bound it (CI: "set query_coord_port=53797, but bind failed"). These ports come
from below the ephemeral range instead, where only an explicit bind can take one, are distinct within a
call, and are checked free on every interface (Milvus 2.3.5 binds `:<port>`).
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

# Above the well-known ports and above Milvus 2.3.5's and etcd's own defaults (the highest below the
# ephemeral range is 22930), so a test can tell that the server uses none of its defaults.
LOWEST = 23000


def ephemeral_low(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    """The lowest port the kernel hands out for outgoing connections (32768 when it cannot be read)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def is_free(port: int) -> bool:
    """Nothing listens on or is bound to `port` on any IPv4 interface."""
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports from [LOWEST, ephemeral low), in random order."""
    high = ephemeral_low()
    if high - LOWEST < count:
        raise RuntimeError(f"the ephemeral range starts at {high}: no room for {count} ports above {LOWEST}")
    chosen: list[int] = []
    for port in random.sample(range(LOWEST, high), high - LOWEST):
        if is_free(port):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError(f"fewer than {count} free ports between {LOWEST} and {high}")


def free_port() -> int:
    """One free port (see `free_ports`)."""
    return free_ports(1)[0]
