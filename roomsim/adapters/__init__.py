"""Adapters: how the namespaces of several nodes reach each other's sockets.

``memory`` keeps everything on one node; ``redis`` is Socket.IO's classic
Redis adapter, every node pattern-subscribed to every broadcast;
``sharded-redis`` publishes single-room broadcasts on a channel per room, so
only the nodes that have the room receive them.
"""

from __future__ import annotations

from roomsim.adapters.memory import InMemoryAdapter
from roomsim.adapters.redis import RedisAdapter
from roomsim.adapters.sharded import SUBSCRIPTION_MODES, ShardedRedisAdapter

__all__ = [
    "ADAPTERS",
    "SUBSCRIPTION_MODES",
    "InMemoryAdapter",
    "RedisAdapter",
    "ShardedRedisAdapter",
]

#: Adapter names a cluster or a scenario file accepts, and their classes.
ADAPTERS: dict[str, type[InMemoryAdapter]] = {
    "memory": InMemoryAdapter,
    "redis": RedisAdapter,
    "sharded-redis": ShardedRedisAdapter,
}
