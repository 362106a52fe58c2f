"""Adapters: how the namespaces of several nodes reach each other's sockets.

``memory`` keeps everything on one node; ``redis`` is Socket.IO's classic
Redis adapter, every node pattern-subscribed to every broadcast.
"""

from __future__ import annotations

from roomsim.adapters.memory import InMemoryAdapter
from roomsim.adapters.redis import RedisAdapter

__all__ = ["ADAPTERS", "InMemoryAdapter", "RedisAdapter"]

#: Adapter names a cluster or a scenario file accepts, and their classes.
ADAPTERS: dict[str, type[InMemoryAdapter]] = {
    "memory": InMemoryAdapter,
    "redis": RedisAdapter,
}
