"""A node's event loop: one first-in, first-out server with a busy-until clock.

Work reaches the loop at some instant and waits for the work ahead of it;
each item then takes its cost (from a :class:`~roomsim.profile.CostProfile`).
Nothing here schedules a SimPy event: the loop is arithmetic.  A broadcast
of *n* frames is one charge, and the departure of each frame is computed
from the clock (the *k*-th frame leaves after *k* writes), so the last
socket of a large broadcast sees the whole write time.

:class:`LoopStats` keeps what the reports need: busy time, the longest
backlog and when, busy time per bucket of simulated time (utilisation over
time), and whether the queue kept growing (saturation).  The broker's queue
keeps one too.
"""

from __future__ import annotations

import math
import operator
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from functools import reduce
from itertools import accumulate, compress, islice, repeat
from typing import Any

from roomsim.packet import Packet, wire_size
from roomsim.profile import CostProfile

__all__ = [
    "BUCKET_MS",
    "MAX_GROUPS",
    "LoopStats",
    "Machine",
    "NodeLoop",
    "erlang_c",
    "load_figures",
    "loop_series",
]

#: width of the buckets of :attr:`LoopStats.busy_by_bucket`, in ms
BUCKET_MS = 10.0
#: with ``flush_ms`` > 0, the most groups a broadcast's frames leave a node in
MAX_GROUPS = 32


def _spread(buckets: dict[int, float], start: float, end: float) -> None:
    """Add the busy time from ``start`` to ``end`` to each :data:`BUCKET_MS` bucket it spans."""
    t = start
    while t < end:
        b = int(t // BUCKET_MS)
        upto = min(end, (b + 1) * BUCKET_MS)
        buckets[b] = buckets.get(b, 0.0) + (upto - t)
        t = upto


class LoopStats:
    """What a FIFO server did: busy time, backlog, utilisation over time.

    Examples
    --------
    >>> s = LoopStats()
    >>> s.add(0.0, 0.0, 4.0); s.add(1.0, 4.0, 4.0)
    >>> s.busy_ms, s.max_backlog_ms, s.max_backlog_at, s.items
    (8.0, 3.0, 1.0, 2)
    """

    __slots__ = (
        "_done",
        "busy_by_bucket",
        "busy_ms",
        "busy_until",
        "by_kind",
        "first_at",
        "items",
        "last_at",
        "last_backlog_ms",
        "max_backlog_at",
        "max_backlog_ms",
        "max_queue",
        "max_queue_at",
        "period_items",
        "period_start",
        "queue_by_bucket",
    )

    def __init__(self) -> None:
        self.busy_ms = 0.0
        self.items = 0
        self.first_at: float | None = None
        self.last_at = 0.0
        self.busy_until = 0.0
        #: work (ms) waiting ahead of an arriving item: the longest, and when
        self.max_backlog_ms = 0.0
        self.max_backlog_at = 0.0
        #: work (ms) left when the last item arrived
        self.last_backlog_ms = 0.0
        #: items in the loop (waiting or in service): the most, and when
        self.max_queue = 0
        self.max_queue_at = 0.0
        self.busy_by_bucket: dict[int, float] = {}
        self.queue_by_bucket: dict[int, float] = {}
        self._done: deque[float] = deque()
        #: the current busy period (since the loop was last idle): its start, its items
        self.period_start = 0.0
        self.period_items = 0
        #: busy time by kind of work (``emit``, ``write``, ``message``, ...), in ms
        self.by_kind: dict[str, float] = {}

    def add(self, arrival: float, start: float, cost: float) -> None:
        """An item that arrived at ``arrival`` is served from ``start`` for ``cost`` ms."""
        self.items += 1
        if self.first_at is None:
            self.first_at = arrival
        self.last_at = arrival
        backlog = start - arrival
        self.last_backlog_ms = backlog + cost
        if backlog <= 0:
            self.period_start, self.period_items = arrival, 0
        self.period_items += 1
        if backlog > 0:
            if backlog > self.max_backlog_ms:
                self.max_backlog_ms, self.max_backlog_at = backlog, arrival
            bucket = int(arrival // BUCKET_MS)
            queues = self.queue_by_bucket
            if backlog > queues.get(bucket, 0.0):
                queues[bucket] = backlog
        done = self._done  # the end of each item in the loop, in order (FIFO)
        while done and done[0] <= arrival:
            done.popleft()
        if cost <= 0:
            return
        end = start + cost
        done.append(end)
        if len(done) > self.max_queue:
            self.max_queue, self.max_queue_at = len(done), arrival
        self.busy_ms += cost
        if end > self.busy_until:
            self.busy_until = end
        buckets = self.busy_by_bucket
        b = int(start // BUCKET_MS)
        if end <= (b + 1) * BUCKET_MS:
            buckets[b] = buckets.get(b, 0.0) + cost
            return
        _spread(buckets, start, end)

    def add_run(self, arrival: float, start: float, costs: Sequence[float]) -> None:
        """Items that all arrived at ``arrival``, served back to back from ``start``
        (``start`` >= ``arrival``; costs >= 0): the same as :meth:`add` of each in turn.

        Examples
        --------
        >>> one, run = LoopStats(), LoopStats()
        >>> for start, cost in ((0.0, 2.0), (2.0, 1.0), (3.0, 0.5)):
        ...     one.add(0.0, start, cost)
        >>> run.add_run(0.0, 0.0, [2.0, 1.0, 0.5])
        >>> all(getattr(one, k) == getattr(run, k) for k in LoopStats.__slots__)
        True
        """
        if not costs:
            return
        self.items += len(costs)
        if self.first_at is None:
            self.first_at = arrival
        self.last_at = arrival
        ends = list(accumulate(costs, initial=start))  # the same sums as one by one
        if all(map(operator.lt, ends, islice(ends, 1, None))):  # each item moves the clock
            self._add_moving_run(arrival, ends, costs)
            return
        done = self._done
        busy_ms, busy_until = self.busy_ms, self.busy_until
        max_backlog, max_backlog_at = self.max_backlog_ms, self.max_backlog_at
        max_queue, max_queue_at = self.max_queue, self.max_queue_at
        period_start, period_items = self.period_start, self.period_items
        queues, buckets = self.queue_by_bucket, self.busy_by_bucket
        bucket = int(arrival // BUCKET_MS)
        backlog = 0.0
        for cost in costs:
            backlog = start - arrival
            if backlog <= 0:
                period_start, period_items = arrival, 0
            period_items += 1
            if backlog > 0:
                if backlog > max_backlog:
                    max_backlog, max_backlog_at = backlog, arrival
                if backlog > queues.get(bucket, 0.0):
                    queues[bucket] = backlog
            while done and done[0] <= arrival:  # (an item too small to move the clock)
                done.popleft()
            if cost <= 0:
                continue
            end = start + cost
            done.append(end)
            if len(done) > max_queue:
                max_queue, max_queue_at = len(done), arrival
            busy_ms += cost
            if end > busy_until:
                busy_until = end
            b = int(start // BUCKET_MS)
            if end <= (b + 1) * BUCKET_MS:
                buckets[b] = buckets.get(b, 0.0) + cost
            else:
                _spread(buckets, start, end)
            start = end
        self.last_backlog_ms = backlog + costs[-1]
        self.busy_ms, self.busy_until = busy_ms, busy_until
        self.max_backlog_ms, self.max_backlog_at = max_backlog, max_backlog_at
        self.max_queue, self.max_queue_at = max_queue, max_queue_at
        self.period_start, self.period_items = period_start, period_items

    def _add_moving_run(self, arrival: float, ends: list[float], costs: Sequence[float]) -> None:
        """:meth:`add_run` of items that each move the clock (``ends``: the run's
        start, then the end of each item), in closed form where it can be."""
        n = len(costs)
        done = self._done
        while done and done[0] <= arrival:
            done.popleft()
        if ends[0] <= arrival:  # the first item found the loop idle
            self.period_start, self.period_items = arrival, 1
        else:
            self.period_items += 1
        self.period_items += n - 1  # every later item waits for the one before it
        backlog = ends[n - 1] - arrival  # the last item's wait: the longest
        if backlog > 0:
            if backlog > self.max_backlog_ms:
                self.max_backlog_ms, self.max_backlog_at = backlog, arrival
            bucket = int(arrival // BUCKET_MS)
            if backlog > self.queue_by_bucket.get(bucket, 0.0):
                self.queue_by_bucket[bucket] = backlog
        self.last_backlog_ms = backlog + costs[-1]
        done.extend(islice(ends, 1, None))
        if len(done) > self.max_queue:
            self.max_queue, self.max_queue_at = len(done), arrival
        self.busy_ms = reduce(operator.add, costs, self.busy_ms)
        if ends[n] > self.busy_until:
            self.busy_until = ends[n]
        buckets = self.busy_by_bucket
        i = 0
        while i < n:  # the items wholly inside one bucket at once, in order
            b = int(ends[i] // BUCKET_MS)
            j = bisect_right(ends, (b + 1) * BUCKET_MS, i + 1, n + 1) - 1
            if j > i:
                buckets[b] = reduce(operator.add, costs[i:j], buckets.get(b, 0.0))
                i = j
            else:  # an item that runs past the bucket's end
                _spread(buckets, ends[i], ends[i + 1])
                i += 1

    def utilisation(self, horizon: float | None = None) -> float:
        """The busy fraction from the first item to ``horizon`` (default: the last work)."""
        if self.first_at is None:
            return 0.0
        end = max(horizon if horizon is not None else 0.0, self.busy_until, self.last_at)
        span = end - self.first_at
        return self.busy_ms / span if span > 0 else 0.0

    @property
    def saturated(self) -> bool:
        """Whether the queue grew without bound: at the last arrival the loop had
        not been idle for at least 50 items, and the work left then was more than
        5% of that busy period (work kept arriving faster than it was done).

        Examples
        --------
        >>> s = LoopStats()
        >>> for i in range(100): s.add(float(i), max(float(i), 2.0 * i), 2.0)
        >>> s.saturated
        True
        >>> t = LoopStats()
        >>> for i in range(100): t.add(float(i), float(i), 0.5)
        >>> t.saturated
        False
        """
        span = self.last_at - self.period_start
        return self.period_items >= 50 and span > 0 and self.last_backlog_ms > 0.05 * span

    def peak_utilisation(self, window_ms: float = 1000.0) -> float:
        """The highest busy fraction over any ``window_ms`` of the run (bucket-aligned)."""
        buckets = self.busy_by_bucket
        if not buckets:
            return 0.0
        width = max(1, int(window_ms // BUCKET_MS))
        lo, hi = min(buckets), max(buckets)
        values = [buckets.get(b, 0.0) for b in range(lo, hi + 1)]
        best = total = sum(values[:width])
        for k in range(width, len(values)):
            total += values[k] - values[k - width]
            best = max(best, total)
        return min(1.0, best / (width * BUCKET_MS))

    def figures(self, horizon: float | None = None) -> dict[str, Any]:
        """The figures of a run summary (plain data)."""
        return {
            "utilisation": round(self.utilisation(horizon), 4),
            "peak_utilisation": round(self.peak_utilisation(), 4),
            "busy_ms": round(self.busy_ms, 3),
            "items": self.items,
            "max_backlog_ms": round(self.max_backlog_ms, 3),
            "max_backlog_at": round(self.max_backlog_at, 3),
            "max_queue": self.max_queue,
            "max_queue_at": round(self.max_queue_at, 3),
            "saturated": self.saturated,
            "busy_by_kind": {k: round(v, 3) for k, v in sorted(self.by_kind.items())},
        }


class Machine:
    """The CPU cores the nodes share (a profile's ``cores``): a fluid backlog of work.

    Every node's work, and its clients' (``receive_ms`` per frame; with
    ``busy_factor`` < 1 writes, receives and broker messages cost that much of
    themselves once a loop has been busy for ``busy_after_ms``), joins one
    backlog that ``cores`` cores drain together.  An item cannot be done
    before the machine has done the work ahead of it and its own, spread
    over the cores: ``now + backlog / cores``.  Each node's loop is still one
    thread (its own FIFO); the machine only makes an item end later when the
    nodes together want more than ``cores`` cores.

    The machine also keeps its recent utilisation (the work of about the
    last :attr:`WINDOW_MS`, exponentially weighted): :meth:`wait_chance` is
    the chance that a process waking up finds every core taken.

    Examples
    --------
    >>> m = Machine(2.0)
    >>> m.finish(0.0, 3.0), m.finish(0.0, 3.0), m.finish(0.0, 3.0)  # three nodes at once
    (1.5, 3.0, 4.5)
    >>> m.finish(10.0, 1.0)   # idle again
    10.5
    """

    __slots__ = ("at", "backlog", "cores", "recent", "recent_at")

    #: the time constant of the recent utilisation, in ms
    WINDOW_MS = 100.0

    def __init__(self, cores: float) -> None:
        self.cores = cores
        self.backlog = 0.0
        self.at = 0.0
        #: work done about the last WINDOW_MS, per ms (cores busy), as of ``recent_at``
        self.recent = 0.0
        self.recent_at = 0.0

    def finish(self, now: float, work: float) -> float:
        """Add ``work`` ms at ``now``: the instant the machine has done it."""
        left = self.backlog - (now - self.at) * self.cores
        self.backlog = (left if left > 0 else 0.0) + work
        self.at = now
        if now > self.recent_at:
            self.recent *= math.exp((self.recent_at - now) / self.WINDOW_MS)
            self.recent_at = now
        self.recent += work / self.WINDOW_MS
        return now + self.backlog / self.cores

    def utilisation(self, now: float) -> float:
        """The busy fraction of the cores over about the last :attr:`WINDOW_MS`."""
        recent = self.recent * math.exp(min(0.0, self.recent_at - now) / self.WINDOW_MS)
        return min(1.0, recent / self.cores)

    def wait_chance(self, now: float) -> float:
        """The chance that a process waking up at ``now`` finds every core taken:
        :func:`erlang_c` of the cores and their recent utilisation.

        Examples
        --------
        >>> m = Machine(2.0)
        >>> m.wait_chance(0.0)
        0.0
        >>> _ = m.finish(0.0, 100.0)   # two cores, 100 ms of work in the last instant
        >>> round(m.wait_chance(0.0), 3)
        0.333
        """
        return erlang_c(self.cores, self.utilisation(now))


def erlang_c(cores: float, rho: float) -> float:
    """The chance that an arrival waits in an M/M/c queue of ``cores`` servers, each
    busy a fraction ``rho`` of the time (Erlang's C formula; ``cores`` rounded to a
    whole number, at least 1).

    Examples
    --------
    >>> erlang_c(1, 0.3)              # one core: the chance it is busy
    0.3
    >>> round(erlang_c(2, 0.5), 4)    # two cores, half busy: 1/3
    0.3333
    >>> erlang_c(2, 0.0), erlang_c(2, 1.0)
    (0.0, 1.0)
    """
    c = max(1, round(cores))
    if rho <= 0:
        return 0.0
    if rho >= 1:
        return 1.0
    a = c * rho
    term, total = 1.0, 1.0  # a**k / k!, and their sum for k < c
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c / (1 - rho)  # a**c / c! / (1 - rho)
    return last / (total + last)


class NodeLoop:
    """The event loop of one node, charging a cost profile.

    Parameters
    ----------
    env : simpy.Environment
        Only its clock is read.
    profile : CostProfile

    Examples
    --------
    >>> import simpy
    >>> env = simpy.Environment()
    >>> loop = NodeLoop(env, CostProfile(emit_ms=1.0, write_ms=0.5, flush_ms=0.0))
    >>> loop.charge(1.0)                 # the emit: done at 1.0
    1.0
    >>> loop.writes(4, 0)                # four frames: they leave at 1.5, 2, 2.5, 3
    [(1, 1.5), (2, 2.0), (3, 2.5), (4, 3.0)]
    >>> loop.busy_until, loop.stats.busy_ms
    (3.0, 3.0)
    """

    __slots__ = ("busy_until", "env", "machine", "profile", "rng", "sizes", "stats")

    def __init__(
        self,
        env: Any,
        profile: CostProfile,
        sizes: dict[str, int] | None = None,
        machine: Machine | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.env = env
        self.profile = profile
        #: the cores shared with the other nodes (None: this node has a core of its own)
        self.machine = machine
        #: the draws of the waits for a core on waking up (None: the loop never waits
        #: for one; only with a machine and a profile's ``sched_ms`` > 0)
        self.rng = rng if machine is not None and profile.sched_ms > 0 else None
        self.busy_until = 0.0
        self.stats = LoopStats()
        #: encoded size of each message's packet, by message id (shared by a cluster's loops)
        self.sizes = sizes if sizes is not None else {}

    def size(self, packet: Packet) -> int:
        """The bytes of ``packet`` as encoded (computed once per message id)."""
        got = self.sizes.get(packet.msg)
        if got is None:
            if len(self.sizes) > 100_000:
                self.sizes.clear()
            got = self.sizes[packet.msg] = wire_size(packet.wire())
        return got

    def wake(self, now: float) -> float:
        """When a loop idle at ``now`` gets a core: ``now``, or with the machine's
        :meth:`~Machine.wait_chance` an exponential wait of mean ``sched_ms`` later."""
        rng = self.rng
        if rng is None or rng.random() >= self.machine.wait_chance(now):  # type: ignore[union-attr]
            return now
        return now + rng.expovariate(1.0 / self.profile.sched_ms)

    def coalesced(self, now: float, busy: bool) -> float:
        """The share of a write, receive or broker message's cost left at ``now``:
        ``busy_factor`` on shared cores once the loop (``busy``: it still has work)
        has been busy for ``busy_after_ms``, else 1."""
        prof = self.profile
        if (
            busy
            and self.machine is not None
            and prof.busy_factor != 1.0
            and now - self.stats.period_start >= prof.busy_after_ms
        ):
            return prof.busy_factor
        return 1.0

    def charge(self, cost: float, kind: str = "other") -> float:
        """One work item of ``kind`` arriving now: return the instant it is done."""
        now = self.env.now
        busy = self.busy_until > now
        start = self.busy_until if busy else self.wake(now)
        if kind == "message":  # a loop busy for a while reads broker messages in batches
            cost *= self.coalesced(now, busy)
        end = start + cost
        if self.machine is not None and cost > 0:
            end = max(end, self.machine.finish(now, cost))
            cost = end - start
        self.busy_until = end
        self.stats.add(now if busy else start, start, cost)  # a wait for a core is no backlog
        by_kind = self.stats.by_kind
        by_kind[kind] = by_kind.get(kind, 0.0) + cost
        return end

    def charge_all(self, costs: Sequence[float], kinds: Sequence[str]) -> None:
        """Work items arriving now, one after another (``kinds[i]`` the kind of
        ``costs[i]``): the same as :meth:`charge` of each in turn, in one pass
        when the loop has its core to itself.

        Examples
        --------
        >>> import simpy
        >>> loop = NodeLoop(simpy.Environment(), CostProfile())
        >>> loop.charge_all([0.5, 0.004, 0.5], ["connect", "join", "connect"])
        >>> loop.busy_until, loop.stats.items, loop.stats.by_kind["connect"]
        (1.004, 3, 1.0)
        """
        if not costs:
            return
        if self.machine is not None or self.rng is not None:  # shared cores: each in turn
            for cost, kind in zip(costs, kinds, strict=True):
                self.charge(cost, kind)
            return
        if len(costs) != len(kinds):
            raise ValueError(f"{len(costs)} costs but {len(kinds)} kinds")
        now = self.env.now
        start = self.busy_until if self.busy_until > now else now
        by_kind = self.stats.by_kind
        for kind in dict.fromkeys(kinds):  # each kind's costs added in turn, as one by one
            mine = compress(costs, map(operator.eq, kinds, repeat(kind)))
            by_kind[kind] = reduce(operator.add, mine, by_kind.get(kind, 0.0))
        self.busy_until = reduce(operator.add, costs, start)
        self.stats.add_run(now, start, costs)

    def writes(self, n: int, size: int) -> list[tuple[int, float]]:
        """Write one frame of ``size`` bytes to each of ``n`` sockets, in order.

        Returns the groups of frames handed to the network together: ``(k, t)``
        means frames up to the ``k``-th (exclusive of earlier groups) leave at
        ``t``, when the last of them is written.  Frames are handed over every
        ``flush_ms`` of write time, in at most :data:`MAX_GROUPS` groups
        (``flush_ms`` 0: each frame on its own), so a broadcast costs a few
        events per node, never one per socket.
        """
        now = self.env.now
        busy = self.busy_until > now
        start = self.busy_until if busy else self.wake(now)
        per = self.profile.write_cost(size)
        total = n * per
        if self.machine is not None and n:
            receive = self.profile.receive_ms
            factor = self.coalesced(now, busy)
            if factor != 1.0:  # a loop busy for a while: frames coalesce, and cost less each
                per *= factor
                receive *= factor
                total = n * per
            clients = n * receive  # the recipients' work, on the same cores
            end = max(start + total, self.machine.finish(now, total + clients))
            per = (end - start) / n  # the writes stretched over the time the cores give them
            total = end - start
        self.busy_until = start + total
        self.stats.add(now if busy else start, start, total)
        self.stats.by_kind["write"] = self.stats.by_kind.get("write", 0.0) + total
        if per <= 0 or n == 0:
            return [(n, start)] if n else []
        flush = self.profile.flush_ms
        step = max(1, math.floor(flush / per + 1e-9)) if flush > 0 else 1
        if flush > 0:  # a very large broadcast: at most MAX_GROUPS groups
            step = max(step, -(-n // MAX_GROUPS))
        return [(min(k + step, n), start + min(k + step, n) * per) for k in range(0, n, step)]


def load_figures(cluster: Any) -> dict[str, Any] | None:
    """Utilisation, longest backlog and saturation of every node's loop and of the
    broker, for a run with costs (None for a run without).

    Examples
    --------
    >>> from roomsim import Cluster
    >>> from roomsim.profile import CostProfile
    >>> sim = Cluster(nodes=1, costs=CostProfile(connect_ms=2.0))
    >>> _ = sim.connect("alice"); sim.run()
    >>> load_figures(sim)["nodes"]["n1"]["busy_ms"]
    2.0
    >>> load_figures(Cluster(nodes=1)) is None
    True
    """
    if getattr(cluster, "costs", None) is None:
        return None
    horizon = cluster.env.now
    nodes = {
        name: server.loop.stats.figures(horizon)
        for name, server in cluster.nodes.items()
        if server.loop is not None
    }
    broker = cluster.broker.load.figures(horizon) if cluster.broker is not None else None
    saturated = [name for name, f in nodes.items() if f["saturated"]]
    if broker is not None and broker["saturated"]:
        saturated.append("broker")
    return {"nodes": nodes, "broker": broker, "saturated": saturated}


def loop_series(cluster: Any) -> dict[str, dict[str, list[float]]]:
    """Per loop (each node, and ``broker``): utilisation and longest backlog per
    :data:`BUCKET_MS` bucket, as ``{"t": [...], "utilisation": [...], "backlog_ms": [...]}``.

    Examples
    --------
    >>> from roomsim import Cluster
    >>> sim = Cluster(nodes=1, costs=CostProfile(connect_ms=5.0))
    >>> _ = sim.connect("alice"); sim.run()
    >>> loop_series(sim)["n1"]["utilisation"]
    [0.5]
    """
    stats = {
        name: server.loop.stats for name, server in cluster.nodes.items() if server.loop is not None
    }
    if cluster.broker is not None and stats:
        stats["broker"] = cluster.broker.load
    out: dict[str, dict[str, list[float]]] = {}
    for name, s in stats.items():
        keys = set(s.busy_by_bucket) | set(s.queue_by_bucket)
        if not keys:
            out[name] = {"t": [], "utilisation": [], "backlog_ms": []}
            continue
        buckets = range(min(keys), max(keys) + 1)
        out[name] = {
            "t": [b * BUCKET_MS for b in buckets],
            "utilisation": [min(1.0, s.busy_by_bucket.get(b, 0.0) / BUCKET_MS) for b in buckets],
            "backlog_ms": [s.queue_by_bucket.get(b, 0.0) for b in buckets],
        }
    return out
