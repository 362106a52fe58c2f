"""Identifiers: socket ids that look like Socket.IO's and never depend on order.

A socket id is derived from the run's seed and what the socket *is* (its
client, node, namespace and how many times that client connected before), not
from a shared random stream.  So adding a client to a scenario does not change
anyone else's id, and the same seed always gives the same ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
from collections.abc import Callable

__all__ = ["rng", "socket_id", "socket_ids"]

_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _digest(*parts: object, size: int = 16) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def socket_id(seed: int, *parts: object) -> str:
    """A 20-character, URL-safe, random-looking id, like Socket.IO v4's.

    Examples
    --------
    >>> sid = socket_id(7, "alice", "n1", "/", 0)
    >>> len(sid), sid == socket_id(7, "alice", "n1", "/", 0)
    (20, True)
    >>> sid == socket_id(8, "alice", "n1", "/", 0)
    False
    """
    return base64.urlsafe_b64encode(_digest(seed, "sid", *parts, size=15)).decode()


def socket_ids(seed: int, node: str, namespace: str, connections: int = 0) -> Callable[[str], str]:
    """``socket_id(seed, name, node, namespace, connections)`` as a function of
    ``name``, twice as fast: for many clients of one node and namespace.

    Examples
    --------
    >>> ids = socket_ids(7, "n1", "/")
    >>> ids("alice") == socket_id(7, "alice", "n1", "/", 0)
    True
    """
    head = f"{seed}\x1fsid\x1f"
    tail = f"\x1f{node}\x1f{namespace}\x1f{connections}"
    blake, encode = hashlib.blake2b, binascii.b2a_base64

    def make(name: str) -> str:
        digest = blake((head + name + tail).encode(), digest_size=15).digest()
        return encode(digest, newline=False).translate(_URLSAFE).decode()

    return make


def rng(seed: int, stream: str) -> random.Random:
    """An independent random stream named ``stream`` for this ``seed``.

    Each component draws from its own stream, so one component's draws never
    shift another's.

    Examples
    --------
    >>> rng(1, "latency:alice").random() == rng(1, "latency:alice").random()
    True
    >>> rng(1, "latency:alice").random() == rng(1, "latency:bob").random()
    False
    """
    return random.Random(int.from_bytes(_digest(seed, "stream", stream), "big"))
