"""A simulated Redis server for the adapters: channels, pub/sub, a queue.

- ``SUBSCRIBE``/``SSUBSCRIBE`` (a channel) and ``PSUBSCRIBE`` (a glob
  pattern).  A subscription made during the run takes a broker round trip
  (``2 * hop_ms``) to be in place, or, sent as a :meth:`~Broker.command`,
  counts from the moment the command reaches the broker (one hop); a message
  the broker handles before then is not forwarded to that node, which is told
  so (``on_missed``) so that the loss can be recorded.  Unsubscribing takes
  one hop.
- Publishing takes one hop to reach the broker, then waits in the broker's
  single queue: each message costs ``publish_ms`` and each copy handed to a
  subscriber ``copy_ms`` of the broker's time, so a busy broker queues and the
  queue shows in latency.  Each copy then takes one hop to its node.  The
  publisher gets the broker's reply (``on_reply``) one hop after the broker
  is done: that is when an awaited ``SPUBLISH`` returns.
- Counts per channel and per node: messages and bytes published, copies
  handed out.  A ``PUBLISH`` stores nothing: what a node misses is gone.
- Failures, as node-redis over TCP behaves: a partition *holds* what crosses
  it (TCP keeps and retransmits the bytes) and lets it through after the heal,
  unless it was made with ``lose=True`` (the connection gave up: it is lost).
  While the broker is down each node queues what it sends (node-redis's
  offline queue); when it is up again the nodes reconnect one after another,
  in an order drawn from the seed, each subscribing again and then sending its
  queue, so a queued message reaches the nodes that reconnected before its
  sender.  What was in flight when it went down is lost.
"""

from __future__ import annotations

import fnmatch
import functools
import random
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import simpy

from roomsim._sched import call_at, call_later, reachable
from roomsim.ids import rng
from roomsim.latency import Delay
from roomsim.loop import LoopStats

#: Something on its way (``arrive()``), and what to call if it never arrives.
_Pending = tuple[Callable[[], None], Callable[[str], None] | None]

__all__ = ["Broker", "BrokerMessage", "Subscription", "Subscriptions"]

Listener = Callable[[str, "BrokerMessage"], None]
#: takes the copies of one message for several subscriptions at one instant
BatchListener = Callable[[str, "BrokerMessage", "list[Subscription]"], None]


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
    on_missed: Callable[[str, BrokerMessage, str], None] | None = None
    active: bool = False
    cancelled: bool = False
    #: the node's client would not subscribe it again after a reconnection
    stale: bool = False
    #: hands one message to a run of subscriptions with the same ``batch`` at once
    #: (what ``listener`` does for each, in order); ``owner`` is what it acts for
    batch: BatchListener | None = None
    owner: Any = None
    _match: Callable[[str], bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._match = _matcher(self.target) if self.pattern else self.target.__eq__

    def matches(self, channel: str) -> bool:
        return self._match(channel)


class Subscriptions:
    """The broker's subscriptions in the order they were made, indexed for lookup.

    A channel's subscribers are found in a table of exact channels plus a
    (short) list of patterns, not by looking at every subscription: a
    sharded adapter with 10,000 rooms on 100 nodes holds a million of them.
    Every answer keeps the order the subscriptions were made in, as one list
    scanned from the start would.

    Examples
    --------
    >>> subs = Subscriptions()
    >>> a = subs.add(Subscription("n1", "ch#*", print, pattern=True))
    >>> b = subs.add(Subscription("n2", "ch#x", print))
    >>> c = subs.add(Subscription("n3", "other", print))
    >>> [s.node for s in subs.matching("ch#x")], [s.node for s in subs.matching("ch#y")]
    (['n1', 'n2'], ['n1'])
    >>> subs.remove(a)
    >>> [s.node for s in subs.matching("ch#x")], len(subs)
    (['n2'], 2)
    """

    __slots__ = ("_all", "_by_node", "_exact", "_matched", "_patterns", "_seq")

    #: channels whose matching patterns are remembered at most (then forgotten)
    REMEMBERED = 4096

    def __init__(self) -> None:
        #: every subscription, in the order made (a dict: removal in O(1), order kept)
        self._all: dict[Subscription, int] = {}
        self._exact: dict[str, dict[Subscription, int]] = {}
        self._patterns: dict[Subscription, int] = {}
        #: the patterns each recent channel matches (forgotten when patterns change)
        self._matched: dict[str, list[Subscription]] = {}
        self._by_node: dict[str, dict[Subscription, int]] = {}
        self._seq = 0

    def add(self, sub: Subscription) -> Subscription:
        """Keep ``sub``, the newest subscription."""
        self._seq += 1
        seq = self._seq
        self._all[sub] = seq
        if sub.pattern:
            self._patterns[sub] = seq
            self._matched.clear()
        else:
            self._exact.setdefault(sub.target, {})[sub] = seq
        self._by_node.setdefault(sub.node, {})[sub] = seq
        return sub

    def remove(self, sub: Subscription) -> None:
        """Forget ``sub`` (nothing if it is not kept)."""
        if self._all.pop(sub, None) is None:
            return
        if sub.pattern:
            del self._patterns[sub]
            self._matched.clear()
        else:
            same = self._exact[sub.target]
            del same[sub]
            if not same:
                del self._exact[sub.target]
        mine = self._by_node[sub.node]
        del mine[sub]
        if not mine:
            del self._by_node[sub.node]

    def __contains__(self, sub: object) -> bool:
        return sub in self._all

    def __iter__(self) -> Iterator[Subscription]:
        return iter(list(self._all))

    def __len__(self) -> int:
        return len(self._all)

    def of_node(self, node: str) -> list[Subscription]:
        """``node``'s subscriptions, in the order made."""
        return list(self._by_node.get(node, ()))

    def nodes(self) -> list[str]:
        """The nodes with a subscription, in the order of their first one."""
        firsts = sorted((next(iter(subs.values())), node) for node, subs in self._by_node.items())
        return [node for _, node in firsts]

    def exact(self, channel: str) -> list[Subscription]:
        """The channel (not pattern) subscriptions to ``channel``, in the order made."""
        return list(self._exact.get(channel, ()))

    def matching(self, channel: str) -> list[Subscription]:
        """Every subscription ``channel`` matches (its own and patterns), in the order made."""
        exact = self._exact.get(channel)
        patterns = self._patterns
        if patterns:
            found = self._matched.get(channel)
            if found is None:
                if len(self._matched) >= self.REMEMBERED:
                    self._matched.clear()
                found = self._matched[channel] = [s for s in patterns if s._match(channel)]
            if found:
                found = list(found)
                if not exact:
                    return found
                found += exact
                order = self._all
                found.sort(key=order.__getitem__)
                return found
        return list(exact) if exact else []


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
        seed: int = 0,
    ) -> None:
        for name, value in (("hop_ms", hop_ms), ("publish_ms", publish_ms), ("copy_ms", copy_ms)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.env = env
        self.hop_ms = hop_ms
        self.seed = seed
        #: per-node hop distributions (a node's link to the broker), when set
        self._hops: dict[str, Delay] = {}
        self._hop_streams: dict[str, random.Random] = {}
        self._last: dict[tuple[str, str], float] = {}
        self.publish_ms = publish_ms
        self.copy_ms = copy_ms
        self._subs = Subscriptions()
        self._queue: deque[tuple[float, str, BrokerMessage, Any, Any]] = deque()
        self._busy = False
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
        #: the queue's busy time, backlog and utilisation (see :class:`~roomsim.loop.LoopStats`)
        self.load = LoopStats()
        #: False while the broker is down
        self.up = True
        #: nodes that cannot reach the broker, and nodes the broker cannot reach
        self.cut_to: set[str] = set()
        self.cut_from: set[str] = set()
        #: nodes whose partition loses what crosses it instead of holding it
        self._losing: set[str] = set()
        #: what a partition holds, per node: on its way to the broker, and back
        #: (each with what to say if it never arrives: ``lost(reason)``)
        self._held_up: dict[str, list[_Pending]] = {}
        self._held_down: dict[str, list[_Pending]] = {}
        #: what each node queued while the broker was down (node-redis's offline queue)
        self._offline: dict[str, list[_Pending]] = {}
        #: nodes not yet reconnected since the broker came back
        self._reconnecting: set[str] = set()
        self._comebacks = 0
        #: the order the nodes reconnected in after the broker was last up again
        self.reconnect_order: list[str] = []

    # -- links between nodes and the broker -------------------------------------
    def set_hop(self, node: str, hop: Delay) -> None:
        """Give ``node``'s link to the broker its own one-hop latency distribution."""
        self._hops[node] = hop

    def hop(
        self,
        node: str,
        direction: str,
        message: BrokerMessage | None = None,
        channel: str = "",
        start: float | None = None,
        what: str = "copy",
    ) -> float:
        """When a packet that enters ``node``'s link to the broker at ``start``
        (default: now) comes out at the far end: an absolute time.

        ``direction`` is ``up`` (node to broker) or ``down``.  The link is first
        in, first out: a packet never comes out before one that entered it
        earlier.  With a latency distribution, each packet's draw comes from
        its own stream, named after the link, the direction and the message
        (``broker-link:<node>:<direction>:<what>:<msg>:<channel>``), so another
        client's messages never change this one's latency; a message without
        an id (a request's response) draws from the stream of its link,
        direction and channel.  What links share is their order: a packet can
        wait behind an earlier one on the same link.
        """
        at = self.env.now if start is None else start
        dist = self._hops.get(node)
        if dist is None:
            return reachable(self.env.now, at + self.hop_ms)
        if message is not None and message.msg is not None:
            stream = rng(
                self.seed, f"broker-link:{node}:{direction}:{what}:{message.msg}:{channel}"
            )
        else:
            name = f"broker-link:{node}:{direction}:{channel}"
            known = self._hop_streams.get(name)
            if known is None:
                known = self._hop_streams[name] = rng(self.seed, name)
            stream = known
        arrival = reachable(
            self.env.now, max(at + dist.sample(stream), self._last.get((node, direction), 0.0))
        )
        self._last[(node, direction)] = arrival
        return arrival

    def _after_hop(
        self,
        node: str,
        direction: str,
        offset: float,
        message: BrokerMessage | None,
        channel: str,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
    ) -> None:
        """Call ``fn(*args)`` when a packet entering ``node``'s link ``offset`` ms
        from now comes out (:meth:`hop`)."""
        if node not in self._hops:  # a constant hop: in order as it is
            delay = offset + self.hop_ms
            call_later(self.env, delay, fn, *args)
            key = (node, direction)  # (for a distribution given to the link later)
            if self.env.now + delay > self._last.get(key, 0.0):
                self._last[key] = self.env.now + delay
            return
        start = self.env.now + offset
        call_at(self.env, self.hop(node, direction, message, channel, start, what), fn, *args)

    # -- subscriptions ---------------------------------------------------------
    def _add(self, sub: Subscription, immediate: bool | None) -> Subscription:
        self._subs.add(sub)
        if immediate:
            sub.active = True
        elif immediate is not None:
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
        immediate: bool | None = False,
        on_missed: Callable[[str, BrokerMessage, str], None] | None = None,
    ) -> Subscription:
        """``SUBSCRIBE``/``SSUBSCRIBE channel`` for ``node``; in place after a round trip.

        ``immediate=True`` is for subscriptions made when a node starts;
        ``immediate=None`` registers it inactive, for a :meth:`command` to
        put in place.
        """
        return self._add(Subscription(node, channel, listener, False, on_missed), immediate)

    def psubscribe(
        self,
        pattern: str,
        listener: Listener,
        *,
        node: str,
        immediate: bool = True,
        on_missed: Callable[[str, BrokerMessage, str], None] | None = None,
        batch: BatchListener | None = None,
        owner: Any = None,
    ) -> Subscription:
        """``PSUBSCRIBE pattern`` (a Redis glob, such as ``socket.io#/#*``).

        ``batch``, if given, is called instead of ``listener`` with every
        subscription of a run of consecutive subscribers that share it (each
        with its ``owner``), when a message reaches them at one instant.
        """
        sub = Subscription(node, pattern, listener, True, on_missed, batch=batch, owner=owner)
        return self._add(sub, immediate)

    def drop_node(self, node: str) -> None:
        """A node went away: its subscriptions end at once, what it sent or was
        sent and is held or queued is gone (each lost as ``node down``)."""
        for sub in self._subs.of_node(node):
            sub.cancelled = True
            sub.active = False
            self._subs.remove(sub)
        for table in (self._held_up, self._held_down, self._offline):
            for _, lost in table.pop(node, []):
                if lost is not None:
                    lost("node down")

    def strand(self) -> None:
        """The run is over: what is still held behind a partition, or queued
        while the broker is away, never arrives; each is lost (``partition``,
        ``broker down``), so that no targeted socket is left without an outcome."""
        for table, reason in (
            (self._held_up, "partition"),
            (self._held_down, "partition"),
            (self._offline, "broker down"),
        ):
            for node in list(table):
                for _, lost in table.pop(node):
                    if lost is not None:
                        lost(reason)

    # -- a node's link to the broker -----------------------------------------------
    def _to_broker(
        self,
        node: str,
        arrive: Callable[[], None],
        lost: Callable[[str], None],
        message: BrokerMessage | None = None,
        channel: str = "",
    ) -> None:
        """Send something from ``node``: ``arrive()`` runs at the broker one hop
        later; it waits in the node's offline queue while the broker is down, or
        behind a partition that holds; ``lost(reason)`` if it never gets there."""
        if not self.up or node in self._reconnecting:
            self._offline.setdefault(node, []).append((arrive, lost))
        elif node in self.cut_to:
            if node in self._losing:
                lost("partition")
            else:
                self._held_up.setdefault(node, []).append((arrive, lost))
        else:
            self._after_hop(node, "up", 0.0, message, channel, "copy", arrive)

    def _to_node(
        self,
        node: str,
        deliver: Callable[[], None],
        at: float,
        lost: Callable[[str], None] | None = None,
    ) -> bool:
        """Send something to ``node``, arriving at time ``at``; held behind a
        partition that holds (``lost(reason)`` if the run ends first).  False
        if a partition loses it."""
        if node in self.cut_from:
            if node in self._losing:
                return False
            self._held_down.setdefault(node, []).append((deliver, lost))
        else:
            call_at(self.env, at, deliver)
        return True

    def reachable(self, node: str) -> bool:
        """Whether ``node`` talks to the broker right now (up, reconnected, not cut off)."""
        return (
            self.up
            and node not in self._reconnecting
            and node not in self.cut_to
            and node not in self.cut_from
        )

    def command(
        self,
        node: str,
        at_broker: Callable[[], None],
        on_reply: Callable[[], None] | None = None,
    ) -> None:
        """A command from ``node`` (``SSUBSCRIBE``, ``SUNSUBSCRIBE``): ``at_broker()``
        runs when it reaches the broker, ``on_reply()`` on the node when the
        reply is back.  In flight when the broker goes down, it is lost."""

        def arrive() -> None:
            if not self.up:
                return
            at_broker()
            if on_reply is not None:
                self._to_node(node, on_reply, self.hop(node, "down"))

        self._to_broker(node, arrive, lambda _reason: None)

    # -- failures ----------------------------------------------------------------
    def go_down(self) -> None:
        """The broker stops: what it holds and what is in flight to it is lost;
        the nodes queue what they send until they reconnect."""
        self.up = False
        for sub in self._subs:
            sub.active = False

    def come_up(self) -> None:
        """The broker is back; the nodes reconnect a round trip later, one after
        another in an order drawn from the seed: each subscribes again, then
        sends what it queued meanwhile."""
        self.up = True
        self._comebacks += 1
        nodes = list(dict.fromkeys(self._subs.nodes() + list(self._offline)))
        rng(self.seed, f"broker-reconnect:{self._comebacks}").shuffle(nodes)
        self.reconnect_order = nodes
        self._reconnecting = set(nodes)
        for node in nodes:
            call_later(self.env, 2 * self.hop_ms, self._reconnect, node)

    def _reconnect(self, node: str) -> None:
        if not self.up:
            return
        self._reconnecting.discard(node)
        for sub in self._subs.of_node(node):
            if not sub.cancelled and not sub.stale:
                sub.active = True
        for arrive, _ in self._offline.pop(node, []):
            arrive()

    def partition(self, node: str, direction: str = "both", lose: bool = False) -> None:
        """Cut ``node`` off: ``to-broker``, ``from-broker`` or ``both``.

        What crosses the cut is held and goes on after :meth:`heal` (TCP keeps
        the bytes), or with ``lose=True`` is lost (the connection gave up).
        """
        if direction not in ("both", "to-broker", "from-broker"):
            raise ValueError(f"unknown direction {direction!r}")
        if direction in ("both", "to-broker"):
            self.cut_to.add(node)
        if direction in ("both", "from-broker"):
            self.cut_from.add(node)
        if lose:
            self._losing.add(node)
        else:
            self._losing.discard(node)

    def heal(self, node: str) -> None:
        """``node`` reaches the broker again, both ways; what was held goes on,
        in order, one hop each way."""
        self.cut_to.discard(node)
        self.cut_from.discard(node)
        self._losing.discard(node)
        for arrive, _ in self._held_up.pop(node, []):
            call_at(self.env, self.hop(node, "up"), arrive)
        for deliver, _ in self._held_down.pop(node, []):
            call_at(self.env, self.hop(node, "down"), deliver)

    def _lost(self, channel: str, message: BrokerMessage, reason: str) -> None:
        """Nobody gets ``message``: tell each node that would have."""
        for sub in self._subs.matching(channel):
            if sub.node != message.sender and sub.on_missed is not None:
                sub.on_missed(channel, message, reason)

    def unsubscribe(self, sub: Subscription) -> None:
        """``UNSUBSCRIBE``: the broker stops forwarding once the request arrives."""
        sub.cancelled = True
        call_later(self.env, self.hop_ms, self._remove, sub)

    def remove(self, sub: Subscription) -> None:
        """The broker forgets ``sub`` now."""
        self._remove(sub)

    def _remove(self, sub: Subscription) -> None:
        sub.active = False
        self._subs.remove(sub)

    def numsub(self, channel: str) -> int:
        """``PUBSUB NUMSUB`` / ``SHARDNUMSUB``: channel subscriptions to ``channel``.

        While the broker is down the nodes' last known subscriptions count, so
        a request still waits for every node (and times out).
        """
        up = self.up
        return sum(1 for s in self._subs.exact(channel) if (s.active or not up) and not s.cancelled)

    def subscribers(self, channel: str) -> list[Subscription]:
        """The subscriptions a message on ``channel`` reaches now, in subscription order."""
        return [s for s in self._subs.matching(channel) if s.active]

    # -- publishing ---------------------------------------------------------------
    def publish(
        self,
        channel: str,
        message: BrokerMessage,
        on_reply: Callable[[], None] | None = None,
        on_failed: Callable[[], None] | None = None,
    ) -> None:
        """A node sends ``PUBLISH channel message``; it reaches the broker after a hop.

        ``on_reply`` runs on the publishing node when the broker's reply is
        back (the end of an awaited publish); ``on_failed`` instead when the
        message is lost: in flight when the broker went down, or cut off by a
        partition that loses.  While the broker is down it waits in the node's
        offline queue; behind a partition that holds, until the heal.
        """

        def lost(reason: str) -> None:
            self._lost(channel, message, reason)
            if on_failed is not None:
                on_failed()

        self._to_broker(
            message.sender,
            lambda: self._arrive(channel, message, on_reply, on_failed),
            lost,
            message,
            channel,
        )

    def _arrive(
        self,
        channel: str,
        message: BrokerMessage,
        on_reply: Callable[[], None] | None,
        on_failed: Callable[[], None] | None = None,
    ) -> None:
        if not self.up:
            self._lost(channel, message, "broker down")
            if on_failed is not None:
                on_failed()
            return
        self._queue.append((self.env.now, channel, message, on_reply, on_failed))
        if not self._busy:
            self._serve()

    def _serve(self) -> None:
        """Handle queued messages in arrival order, each taking the broker's time."""
        env = self.env
        while self._queue:
            if not self.up:
                for _, channel, message, _, on_failed in self._queue:
                    self._lost(channel, message, "broker down")
                    if on_failed is not None:
                        on_failed()
                self._queue.clear()
                break
            arrived, channel, message, on_reply, on_failed = self._queue.popleft()
            self.max_queue_ms = max(self.max_queue_ms, env.now - arrived)
            busy = self._handle(channel, message, on_reply, on_failed)
            self.load.add(arrived, env.now, busy)
            if busy > 0:
                self._busy = True
                call_later(env, busy, self._serve)
                return
        self._busy = False

    def _handle(
        self,
        channel: str,
        message: BrokerMessage,
        on_reply: Callable[[], None] | None,
        on_failed: Callable[[], None] | None = None,
    ) -> float:
        """Hand out one message now; return how long the broker is busy with it."""
        env = self.env
        self.published[channel] += 1
        self.bytes[channel] += message.size
        self.published_by_node[message.sender] += 1
        self.bytes_by_node[message.sender] += message.size
        subs = self._subs.matching(channel)
        reached = [sub for sub in subs if sub.active]
        if self.cut_from or len(reached) < len(subs):
            reached = []
            for sub in subs:
                if sub.node in self.cut_from and sub.node in self._losing:
                    if sub.on_missed is not None:
                        sub.on_missed(channel, message, "partition")
                elif sub.active:
                    reached.append(sub)
                elif sub.on_missed is not None and not sub.cancelled:
                    # not yet in place: the node has not reconnected, or not subscribed yet
                    why = "broker down" if sub.node in self._reconnecting else "not subscribed"
                    sub.on_missed(channel, message, why)
        done = self.publish_ms + len(reached) * self.copy_ms
        if reached:
            self.handed_out[channel] += len(reached)
            self.received_by_node.update([sub.node for sub in reached])
            cut = self.cut_from
            held = [sub for sub in reached if sub.node in cut] if cut else []
            if held:  # behind a partition that holds: handed over after the heal
                reached = [sub for sub in reached if sub.node not in cut]
                for sub in held:
                    deliver = functools.partial(sub.listener, channel, message)
                    missed = sub.on_missed
                    lost = functools.partial(missed, channel, message) if missed else None
                    self._to_node(sub.node, deliver, env.now, lost)
            if self.copy_ms or self._hops:
                for i, sub in enumerate(reached, 1):
                    offset = self.publish_ms + i * self.copy_ms
                    self._after_hop(
                        sub.node,
                        "down",
                        offset,
                        message,
                        channel,
                        "copy",
                        sub.listener,
                        channel,
                        message,
                    )
            elif reached:
                call_later(env, done + self.hop_ms, self._hand_out, channel, message, reached)
        if on_reply is not None:
            sender = message.sender
            at = self.hop(sender, "down", message, channel, env.now + done, "reply")
            if not self._to_node(sender, on_reply, at) and on_failed is not None:
                on_failed()  # the reply cannot come back
        return done

    @staticmethod
    def _hand_out(channel: str, message: BrokerMessage, subs: list[Subscription]) -> None:
        """Hand ``message`` to ``subs`` in order: a run of subscriptions with the
        same ``batch`` in one call."""
        i, n = 0, len(subs)
        while i < n:
            sub = subs[i]
            batch = sub.batch
            if batch is None:
                sub.listener(channel, message)
                i += 1
                continue
            j = i + 1
            while j < n and subs[j].batch is batch:
                j += 1
            batch(channel, message, subs[i:j])
            i = j
