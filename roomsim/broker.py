"""A simulated Redis server for the adapters: channels, pub/sub, a queue.

- ``SUBSCRIBE``/``SSUBSCRIBE`` (a channel) and ``PSUBSCRIBE`` (a glob
  pattern).  A subscription made during the run takes a broker round trip
  (``2 * hop_ms``) to be in place; a message the broker handles before then is
  not forwarded to that node, which is told so (``on_missed``) so that the
  loss can be recorded.  Unsubscribing takes one hop.
- Publishing takes one hop to reach the broker, then waits in the broker's
  single queue: each message costs ``publish_ms`` and each copy handed to a
  subscriber ``copy_ms`` of the broker's time, so a busy broker queues and the
  queue shows in latency.  Each copy then takes one hop to its node.  The
  publisher gets the broker's reply (``on_reply``) one hop after the broker
  is done: that is when an awaited ``SPUBLISH`` returns.
- Counts per channel and per node: messages and bytes published, copies
  handed out.  A ``PUBLISH`` stores nothing: what a node misses is gone.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from roomsim._sched import call_later

__all__ = ["Broker", "BrokerMessage", "Subscription"]

Listener = Callable[[str, "BrokerMessage"], None]


@dataclass(frozen=True, slots=True)
class BrokerMessage:
    """One published message.

    ``payload`` is what the real adapter puts on the wire; ``msg`` is the
    simulation's id of the Socket.IO message it carries (if any); ``sender``
    the publishing node; ``size`` its length in bytes as encoded.
    """

    payload: Any
    msg: str | None
    sender: str
    size: int = 0


def _matcher(pattern: str) -> Callable[[str], bool]:
    """A fast test for a Redis glob pattern (``prefix*`` is the common case)."""
    head, star, tail = pattern.partition("*")
    if star and not tail and not any(c in head for c in "?[\\"):
        return lambda channel: channel.startswith(head)
    return lambda channel: fnmatch.fnmatchcase(channel, pattern)


@dataclass(eq=False)
class Subscription:
    """A node's subscription to a channel (or a pattern, for ``PSUBSCRIBE``)."""

    node: str
    target: str
    listener: Listener
    pattern: bool = False
    on_missed: Callable[[str, BrokerMessage], None] | None = None
    active: bool = False
    cancelled: bool = False
    _match: Callable[[str], bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._match = _matcher(self.target) if self.pattern else self.target.__eq__

    def matches(self, channel: str) -> bool:
        return self._match(channel)


class Broker:
    """Channels with subscribers, a hop of ``hop_ms`` each way, one queue.

    Parameters
    ----------
    env : simpy.Environment
    hop_ms : float
        One hop (node to broker, or broker to node), in ms.
    publish_ms, copy_ms : float
        The broker's own time per message handled and per copy handed out.

    Examples
    --------
    >>> env = simpy.Environment()
    >>> broker = Broker(env, hop_ms=0.5)
    >>> got = []
    >>> _ = broker.psubscribe("news#*", lambda ch, m: got.append((env.now, ch, m.msg)), node="n2")
    >>> broker.publish("news#a#", BrokerMessage(None, "m1", "n1", size=10))
    >>> env.run()
    >>> got
    [(1.0, 'news#a#', 'm1')]
    >>> broker.published["news#a#"], broker.bytes["news#a#"], broker.handed_out["news#a#"]
    (1, 10, 1)
    """

    def __init__(
        self,
        env: simpy.Environment,
        hop_ms: float = 0.0,
        *,
        publish_ms: float = 0.0,
        copy_ms: float = 0.0,
    ) -> None:
        for name, value in (("hop_ms", hop_ms), ("publish_ms", publish_ms), ("copy_ms", copy_ms)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.env = env
        self.hop_ms = hop_ms
        self.publish_ms = publish_ms
        self.copy_ms = copy_ms
        self._subs: list[Subscription] = []
        self._free_at = 0.0
        #: per channel: messages published, their bytes, copies handed out
        self.published: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.handed_out: Counter[str] = Counter()
        #: per node: messages and bytes it published, copies it was handed
        self.published_by_node: Counter[str] = Counter()
        self.bytes_by_node: Counter[str] = Counter()
        self.received_by_node: Counter[str] = Counter()
        #: the longest a message waited in the broker's queue, in ms
        self.max_queue_ms = 0.0

    # -- subscriptions ---------------------------------------------------------
    def _add(self, sub: Subscription, immediate: bool) -> Subscription:
        self._subs.append(sub)
        if immediate:
            sub.active = True
        else:
            call_later(self.env, 2 * self.hop_ms, self._activate, sub)
        return sub

    @staticmethod
    def _activate(sub: Subscription) -> None:
        if not sub.cancelled:
            sub.active = True

    def subscribe(
        self,
        channel: str,
        listener: Listener,
        *,
        node: str,
        immediate: bool = False,
        on_missed: Callable[[str, BrokerMessage], None] | None = None,
    ) -> Subscription:
        """``SUBSCRIBE``/``SSUBSCRIBE channel`` for ``node``; in place after a round trip.

        ``immediate=True`` is for subscriptions made when a node starts.
        """
        return self._add(Subscription(node, channel, listener, False, on_missed), immediate)

    def psubscribe(
        self, pattern: str, listener: Listener, *, node: str, immediate: bool = True
    ) -> Subscription:
        """``PSUBSCRIBE pattern`` (a Redis glob, such as ``socket.io#/#*``)."""
        return self._add(Subscription(node, pattern, listener, True), immediate)

    def unsubscribe(self, sub: Subscription) -> None:
        """``UNSUBSCRIBE``: the broker stops forwarding once the request arrives."""
        sub.cancelled = True
        call_later(self.env, self.hop_ms, self._remove, sub)

    def _remove(self, sub: Subscription) -> None:
        sub.active = False
        if sub in self._subs:
            self._subs.remove(sub)

    def numsub(self, channel: str) -> int:
        """``PUBSUB NUMSUB`` / ``SHARDNUMSUB``: live channel subscriptions to ``channel``."""
        return sum(1 for s in self._subs if s.active and not s.pattern and s.target == channel)

    def subscribers(self, channel: str) -> list[Subscription]:
        """The subscriptions a message on ``channel`` reaches now, in subscription order."""
        return [s for s in self._subs if s.active and s.matches(channel)]

    # -- publishing ---------------------------------------------------------------
    def publish(
        self,
        channel: str,
        message: BrokerMessage,
        on_reply: Callable[[], None] | None = None,
    ) -> None:
        """A node sends ``PUBLISH channel message``; it reaches the broker after a hop.

        ``on_reply`` runs on the publishing node when the broker's reply is
        back (the end of an awaited publish).
        """
        call_later(self.env, self.hop_ms, self._arrive, channel, message, on_reply)

    def _arrive(
        self, channel: str, message: BrokerMessage, on_reply: Callable[[], None] | None
    ) -> None:
        now = self.env.now
        start = max(now, self._free_at)
        self.max_queue_ms = max(self.max_queue_ms, start - now)
        if start > now:
            call_later(self.env, start - now, self._handle, channel, message, on_reply)
        else:
            self._handle(channel, message, on_reply)

    def _handle(
        self, channel: str, message: BrokerMessage, on_reply: Callable[[], None] | None
    ) -> None:
        env = self.env
        self.published[channel] += 1
        self.bytes[channel] += message.size
        self.published_by_node[message.sender] += 1
        self.bytes_by_node[message.sender] += message.size
        reached = []
        for sub in self._subs:
            if not sub.matches(channel):
                continue
            if sub.active:
                reached.append(sub)
            elif sub.on_missed is not None and not sub.cancelled:
                sub.on_missed(channel, message)  # subscribing, not yet in place
        done = self.publish_ms + len(reached) * self.copy_ms
        self._free_at = env.now + done
        if reached:
            self.handed_out[channel] += len(reached)
            for sub in reached:
                self.received_by_node[sub.node] += 1
            if self.copy_ms:
                for i, sub in enumerate(reached, 1):
                    delay = self.publish_ms + i * self.copy_ms + self.hop_ms
                    call_later(env, delay, sub.listener, channel, message)
            else:
                call_later(env, done + self.hop_ms, self._hand_out, channel, message, reached)
        if on_reply is not None:
            call_later(env, done + self.hop_ms, on_reply)

    @staticmethod
    def _hand_out(channel: str, message: BrokerMessage, subs: list[Subscription]) -> None:
        for sub in subs:
            sub.listener(channel, message)
