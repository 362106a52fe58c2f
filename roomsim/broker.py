"""A simulated Redis server for the adapters: channels, pub/sub, latency.

Publishing takes one hop to reach the broker and one more to reach each
subscriber; a Redis ``PUBLISH`` stores nothing, so a subscriber only gets
what is published while it is subscribed.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from roomsim._sched import call_later

__all__ = ["Broker", "BrokerMessage"]

Listener = Callable[[str, "BrokerMessage"], None]


@dataclass(frozen=True, slots=True)
class BrokerMessage:
    """One published message.

    ``payload`` is what the real adapter puts on the wire (a list, for the
    Redis adapter ``[uid, packet, opts]``); ``msg`` is the simulation's id of
    the Socket.IO message it carries; ``sender`` the publishing node.
    """

    payload: Any
    msg: str
    sender: str


def _matcher(pattern: str) -> Callable[[str], bool]:
    """A fast test for a Redis glob pattern (``prefix*`` is the common case)."""
    head, star, tail = pattern.partition("*")
    if star and not tail and not any(c in head for c in "?[\\"):
        return lambda channel: channel.startswith(head)
    return lambda channel: fnmatch.fnmatchcase(channel, pattern)


class Broker:
    """Channels with subscribers, a hop of ``hop_ms`` each way.

    Parameters
    ----------
    env : simpy.Environment
    hop_ms : float
        One hop (node to broker, or broker to node), in ms.

    Examples
    --------
    >>> env = simpy.Environment()
    >>> broker = Broker(env, hop_ms=0.5)
    >>> got = []
    >>> broker.psubscribe("news#*", lambda ch, m: got.append((env.now, ch, m.msg)))
    >>> broker.publish("news#a#", BrokerMessage(None, "m1", "n1"))
    >>> env.run()
    >>> got
    [(1.0, 'news#a#', 'm1')]
    >>> broker.published["news#a#"], broker.handed_out["news#a#"]
    (1, 1)
    """

    def __init__(self, env: simpy.Environment, hop_ms: float = 0.0) -> None:
        if hop_ms < 0:
            raise ValueError(f"hop_ms must be >= 0, got {hop_ms}")
        self.env = env
        self.hop_ms = hop_ms
        self._channels: dict[str, list[Listener]] = {}
        self._patterns: list[tuple[str, Callable[[str], bool], Listener]] = []
        #: messages published, per channel
        self.published: Counter[str] = Counter()
        #: copies handed to subscribers, per channel
        self.handed_out: Counter[str] = Counter()

    def subscribe(self, channel: str, listener: Listener) -> None:
        """``SUBSCRIBE channel``: call ``listener(channel, message)`` for each message."""
        self._channels.setdefault(channel, []).append(listener)

    def psubscribe(self, pattern: str, listener: Listener) -> None:
        """``PSUBSCRIBE pattern`` (a Redis glob, such as ``socket.io#/#*``)."""
        self._patterns.append((pattern, _matcher(pattern), listener))

    def subscribers(self, channel: str) -> list[Listener]:
        """Who gets a message published on ``channel`` now, in subscription order."""
        found = list(self._channels.get(channel, ()))
        found.extend(listener for _, match, listener in self._patterns if match(channel))
        return found

    def publish(self, channel: str, message: BrokerMessage) -> None:
        """A node sends ``PUBLISH channel message``; it reaches the broker after a hop."""
        call_later(self.env, self.hop_ms, self._route, channel, message)

    def _route(self, channel: str, message: BrokerMessage) -> None:
        self.published[channel] += 1
        listeners = self.subscribers(channel)
        if listeners:
            self.handed_out[channel] += len(listeners)
            call_later(self.env, self.hop_ms, self._hand_out, channel, message, listeners)

    @staticmethod
    def _hand_out(channel: str, message: BrokerMessage, listeners: list[Listener]) -> None:
        for listener in listeners:
            listener(channel, message)
