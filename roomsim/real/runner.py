"""Playing a scenario on the real Socket.IO: the driver of ``roomsim real``.

The driver starts a ``redis-server`` on a free loopback port (not for the
``memory`` adapter), one Node process per cluster node (``server.js``: the
same application on every node, declaring every namespace of the
scenario), and one Node process holding every client (``clients.js``: real
socket.io-client sockets, each through its own small proxy that is also its
load balancer).  It plays the steps, gathers what the processes report, and
writes a trace in roomsim's own format.

Sequential mode (the default) plays the steps one at a time, in the order
:func:`roomsim.runner.run_scenario` does, each after the previous one has
settled: every command answered, every acknowledgement, fetch and
server-side request finished (or timed out), and nothing heard from any
process for ``settle_ms`` (and every reconnection it set off done).  So
who gets what is decided by Socket.IO's rules, not by races.  A record's
``t`` is its step's time plus the real milliseconds since the step's first
record, never less than the record before it.

Timed mode plays each step at its scenario time multiplied by ``scale``,
with the scenario's latencies injected for real (``client_ms`` each way on
every client's connection, half of ``adapter_ms`` each way on every node's
Redis connection, all times ``scale``); ``t`` is real time divided by
``scale``.  A connection's transport is opened ahead of time, so that its
socket reaches the server at its time; a client-side disconnect is sent one
latency early for the same reason.  The runner measures how far each step
and connection was from its time and says when the run was too noisy to
trust.
"""

from __future__ import annotations

import itertools
import json
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roomsim.packet import RESERVED_EVENTS
from roomsim.real.procs import JsonProcess, RealError, RedisServer
from roomsim.real.tools import HERE, node_path, redis_path
from roomsim.scenario import Scenario
from roomsim.trace import Trace, format_time

__all__ = ["RealResult", "Unplayable", "playable", "run_real"]

#: Reasons a scenario's ``disconnect`` step cannot make happen on demand.
UNPLAYABLE_REASONS = ("transport error", "ping timeout", "parse error")
#: Reasons the client side plays (the rest are played by the server).
CLIENT_PLAYED = {"client namespace disconnect": "disconnect", "transport close": "close_transport"}
#: Most nodes and clients a real run starts (each node is a Node.js process).
MAX_NODES, MAX_CLIENTS = 16, 1000
#: Timed runs: the smallest real gap (ms) the default scale aims at.
TIMED_GAP_MS = 25.0
#: Timed runs: a connection is opened this many one-way trips, plus PREPARE_MS, ahead.
PREPARE_HOPS, PREPARE_MS = 8, 150.0
#: Timed runs: a step started later than this share of the smallest gap is noise.
NOISE_SHARE = 0.2


class Unplayable(Exception):
    """A key of the scenario the real Socket.IO cannot be made to play."""


@dataclass
class RealResult:
    """What a real run produced: its records and how faithful its timing was.

    Attributes
    ----------
    records : list of dict
        The trace, in order (``t`` first, then ``kind``).
    timed : bool
        Whether the steps were played at their scenario times.
    scale : float
        Real ms per scenario ms (timed runs; 1 otherwise).
    lateness_ms : list of float
        Per step, how late (in scenario ms) it started (timed runs).
    noisy : str or None
        Why the run's timing is not to be trusted, or None.
    """

    records: list[dict[str, Any]]
    timed: bool = False
    scale: float = 1.0
    lateness_ms: list[float] = field(default_factory=list)
    noisy: str | None = None

    def deliveries(self) -> set[tuple[str, str]]:
        """The set of ``(msg, client)`` pairs delivered: who got what."""
        return {(r["msg"], r["client"]) for r in self.records if r["kind"] == "deliver"}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def playable(scenario: Scenario, *, timed: bool = False) -> None:
    """Raise :class:`Unplayable` (one line naming the key) if the scenario
    uses something the real runner cannot play."""
    nodes = scenario.cluster.nodes
    if len(nodes) > MAX_NODES:
        raise Unplayable(f"cluster.nodes: roomsim real starts at most {MAX_NODES} nodes")
    clients = scenario.all_clients()
    if len(clients) > MAX_CLIENTS:
        raise Unplayable(f"clients: roomsim real plays at most {MAX_CLIENTS} clients")
    for i, spec in enumerate(clients):
        where = f"clients[{i}]" if i < len(scenario.clients) else f"client {spec.name!r}"
        if spec.loss:
            raise Unplayable(f"{where}.loss: the real network loses no packet on demand")
        if spec.transport_ms:
            raise Unplayable(f"{where}.transport_ms: the real transport's speed is its own")
        if timed and spec.latency_ms is not None and _number(spec.latency_ms) is None:
            raise Unplayable(f"{where}.latency_ms: a timed run injects constant latencies only")
    for step in scenario.timeline:
        body = step.body
        where = f"timeline[{step.index}].{step.action}"
        if step.action == "disconnect" and body.reason in UNPLAYABLE_REASONS:
            raise Unplayable(f"{where}.reason: {body.reason!r} cannot be made to happen on demand")
    if timed:
        lat = scenario.latency
        for key, value in (("client_ms", lat.client_ms), ("adapter_ms", lat.adapter_ms)):
            if _number(value) is None:
                raise Unplayable(f"latency.{key}: a timed run injects constant latencies only")
        for node, own in lat.nodes.items():
            for key, value in (("client_ms", own.client_ms), ("adapter_ms", own.adapter_ms)):
                if value is not None and _number(value) is None:
                    raise Unplayable(
                        f"latency.nodes.{node}.{key}: a timed run injects constant latencies only"
                    )


def default_scale(scenario: Scenario) -> float:
    """A scale that makes the smallest gap between steps and the smallest
    latency at least :data:`TIMED_GAP_MS` real ms (between 1 and 50)."""
    times = sorted(
        {c.connect_at for c in scenario.all_clients()} | {s.at for s in scenario.timeline}
    )
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    lat = scenario.latency
    values = [_number(lat.client_ms), (_number(lat.adapter_ms) or 0) / 2]
    values += [_number(own.client_ms) for own in lat.nodes.values()]
    values += [(_number(own.adapter_ms) or 0) / 2 for own in lat.nodes.values()]
    small = [v for v in [*gaps, *values] if v]
    if not small:
        return 1.0
    return float(min(50.0, max(1.0, TIMED_GAP_MS / min(small))))


def _now() -> float:
    return time.time() * 1000.0


class _Driver:
    """One real run: the processes, the state the steps need, the records."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        timed: bool,
        scale: float,
        settle_ms: float,
        step_timeout_ms: float,
    ) -> None:
        self.scenario = scenario
        self.timed = timed
        self.scale = scale
        self.settle_ms = settle_ms
        self.step_timeout_ms = step_timeout_ms
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.specs = {c.name: c for c in scenario.all_clients()}
        self.adapter = scenario.cluster.adapter
        self.node_names = list(scenario.cluster.nodes)
        # (wall ms, seq, record without t, step time, step number) for every record
        self.raw: list[tuple[float, int, dict[str, Any], float, int]] = []
        self.step_no = 0
        self.seq = 0
        self.step_at = 0.0
        self.step_t0 = 0.0
        self.next_id = 0
        self.open: dict[int, str] = {}  # command id -> process, not answered yet
        self.pending: set[int] = set()  # asynchronous commands not finished yet
        self.waiting: set[str] = set()  # clients whose connection is awaited
        self.node_of: dict[str, str] = {}  # connected client -> node
        self.sid_of: dict[str, str] = {}  # client -> its current or last socket id
        self.alive = {n: False for n in self.node_names}
        self.ports: dict[str, int] = {}
        self.servers: dict[str, JsonProcess] = {}
        self.expected_exit: set[str] = set()
        self.redis: RedisServer | None = None
        self.clients: JsonProcess | None = None
        self.broker_up = True
        self.connect_sent: dict[str, tuple[float, float | None]] = {}
        self.connect_due: float | None = None
        self.handshakes: list[float] = []
        self.prepared: set[str] = set()  # clients whose next connection is open
        self.lateness: list[float] = []
        self.namespaces = sorted(
            {"/"}
            | {c.namespace for c in scenario.all_clients()}
            | {
                s.body.namespace
                for s in scenario.timeline
                if getattr(s.body, "namespace", None) is not None
            }
        )
        side: dict[str, set[str]] = {}
        for s in scenario.timeline:
            if s.server_side_emit is not None:
                body = s.server_side_emit
                side.setdefault(body.namespace or "/", set()).add(body.event)
        self.side_events = {k: sorted(v) for k, v in side.items()}

    # -- records -----------------------------------------------------------------
    def record(self, kind: str, ts: float | None = None, **fields: Any) -> None:
        self.seq += 1
        ts = _now() if ts is None else ts
        self.raw.append((ts, self.seq, {"kind": kind, **fields}, self.step_at, self.step_no))

    def records(self) -> list[dict[str, Any]]:
        """Every record with its ``t``, in order."""
        out: list[dict[str, Any]] = []
        last = 0.0
        if self.timed:
            for ts, _, rec, _, _ in sorted(self.raw, key=lambda r: (r[0], r[1])):
                t = max(last, (ts - self.t0) / self.scale)
                last = t
                out.append({"t": format_time(round(t, 3)), **rec})
            return out
        first: dict[int, float] = {}  # a step's time is that of its first record
        for ts, _, _, _, step in self.raw:
            first[step] = min(ts, first.get(step, ts))
        for ts, _, rec, at, step in sorted(self.raw, key=lambda r: (r[0], r[1])):
            t = max(last, at + max(0.0, ts - first[step]))
            last = t
            out.append({"t": format_time(round(t, 3)), **rec})
        return out

    # -- processes -----------------------------------------------------------------
    def start(self) -> None:
        node = node_path()
        assert node is not None
        self.node = node
        if self.adapter != "memory":
            exe = redis_path()
            assert exe is not None
            self.redis = RedisServer(exe)
            self.redis.start()
        for name in self.node_names:
            self.start_node(name)
        self.clients = JsonProcess("clients", [node, str(HERE / "clients.js")], self.events, HERE)
        self.wait_for(lambda: self.clients_ready, "the clients process to start")
        self.send_nodes()
        self.wait_subscribed()

    clients_ready = False

    def start_node(self, name: str) -> None:
        lat = self.scenario.latency
        adapter_ms = lat.adapter_ms
        own = lat.nodes.get(name)
        if own is not None and own.adapter_ms is not None:
            adapter_ms = own.adapter_ms
        delay = (_number(adapter_ms) or 0.0) / 2 * self.scale if self.timed else 0.0
        cfg = {
            "node": name,
            "port": self.ports.get(name, 0),
            "adapter": self.adapter,
            "redisPort": self.redis.port if self.redis is not None else None,
            "subscriptionMode": self.scenario.cluster.subscription_mode,
            "requestsTimeout": self.scenario.cluster.requests_timeout_ms,
            "namespaces": self.namespaces,
            "sideEvents": self.side_events,
            "brokerDelayMs": delay,
            "recovery": (
                self.scenario.connection_state_recovery.max_disconnection_duration
                if self.scenario.connection_state_recovery is not None
                else None
            ),
        }
        proc = JsonProcess(name, [self.node, str(HERE / "server.js"), json.dumps(cfg)], self.events)
        self.servers[name] = proc
        if self.broker_up:
            self.wait_for(lambda: self.alive[name], f"node {name} to start")
        # else it waits for Redis before it listens: it is up when it says so

    def send_nodes(self) -> None:
        assert self.clients is not None
        up = {n: self.ports[n] for n in self.node_names if self.alive[n]}
        self.command(
            "clients",
            {
                "op": "nodes",
                "up": up,
                "order": self.node_names,
                "sticky": self.scenario.cluster.sticky,
            },
        )

    def wait_subscribed(self, timeout_s: float = 10.0) -> None:
        """Wait until every node that is up has its adapter's channels subscribed."""
        if self.redis is None or not self.broker_up:
            return
        want = sum(self.alive.values())
        if self.adapter == "redis":
            channels = [f"socket.io-request#{ns}#" for ns in self.namespaces]
            words = ("PUBSUB", "NUMSUB")
        else:
            channels = [f"socket.io#{ns}#" for ns in self.namespaces]
            words = ("PUBSUB", "SHARDNUMSUB")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                reply = self.redis.command(*words, *channels)
            except (OSError, RealError):
                reply = None
            if reply and all(int(n) >= want for n in reply[1::2]):
                return
            self.drain(0.02)
        raise RealError("the nodes did not subscribe to Redis in time")

    def stop(self) -> None:
        for proc in [*self.servers.values(), *([self.clients] if self.clients else [])]:
            self.expected_exit.add(proc.name)
            proc.stop(timeout=1.0)
        if self.redis is not None:
            self.redis.stop()

    # -- messages ------------------------------------------------------------------------
    def command(self, target: str, message: dict[str, Any]) -> int:
        self.next_id += 1
        message = {"id": self.next_id, **message}
        proc = self.clients if target == "clients" else self.servers[target]
        assert proc is not None
        self.open[self.next_id] = target
        proc.send(message)
        return self.next_id

    def handle(self, source: str, msg: dict[str, Any]) -> None:
        ev = msg.get("ev")
        if ev == "rec":
            self.on_record(source, msg["ts"], msg["rec"])
        elif ev == "deliver":
            client = msg["client"]
            node = self.node_of.get(client) or self.last_node.get(client, "?")
            self.record(
                "deliver", msg["ts"], msg=msg["msg"], client=client, node=node, event=msg["event"]
            )
        elif ev == "done":
            self.open.pop(msg["id"], None)
            if msg.get("pending"):
                self.pending.add(msg["id"])
            if msg.get("error"):
                self.command_error(msg["error"])
        elif ev == "result":
            self.pending.discard(msg["id"])
        elif ev == "ready":
            if source == "clients":
                self.clients_ready = True
            else:
                self.ports[source] = int(msg["port"])
                self.alive[source] = True
                if self.clients_ready:  # a node restarted while Redis was down
                    self.send_nodes()
        elif ev == "client":
            client = msg["client"]
            if msg["what"] == "connect_error":
                self.waiting.discard(client)
            elif (
                msg["what"] == "disconnect"
                and msg["reason"] not in ("io server disconnect", "io client disconnect")
                and self.specs[client].reconnect
                and any(self.alive.values())
            ):
                self.waiting.add(client)  # socket.io-client reconnects: part of settling
        elif ev == "exit" and source not in self.expected_exit:
            proc = self.servers.get(source) or self.clients
            why = proc.why() if proc is not None else ""
            raise RealError(f"{'node ' if source in self.servers else ''}{source} died{why}")

    last_node: dict[str, str]

    def on_record(self, source: str, ts: float, rec: dict[str, Any]) -> None:
        kind = rec["kind"]
        if kind == "connect":
            client = rec["client"]
            self.node_of[client] = rec["node"]
            self.last_node[client] = rec["node"]
            self.sid_of[client] = rec["sid"]
            self.waiting.discard(client)
            sent = self.connect_sent.pop(client, None)
            if sent is not None:
                self.handshakes.append(ts - sent[0])
                if sent[1] is not None:  # a timed connection: how far from its time
                    self.lateness.append(abs(ts - sent[1]) / self.scale)
        elif kind == "disconnect" and self.sid_of.get(rec["client"]) == rec["sid"]:
            self.node_of.pop(rec["client"], None)
        kind = rec.pop("kind")
        self.record(kind, ts, **rec)

    def command_error(self, message: str) -> None:
        step = self.current
        extra = {"msg": step.emit.id} if step is not None and step.emit is not None else {}
        where = f"timeline[{step.index}]" if step is not None else self.current_where
        action = step.action if step is not None else "connect"
        self.record("error", step=where, action=action, message=message, **extra)

    def drain(self, wait_s: float) -> bool:
        """Handle what the processes said within ``wait_s``; True if anything came."""
        try:
            source, msg = self.events.get(timeout=max(0.0, wait_s))
        except queue.Empty:
            return False
        self.handle(source, msg)
        while True:
            try:
                source, msg = self.events.get_nowait()
            except queue.Empty:
                return True
            self.handle(source, msg)

    def wait_for(self, done: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise RealError(f"timed out waiting for {what}")
            self.drain(0.05)

    def settle(self) -> None:
        """Wait until the step has finished and nothing moved for ``settle_ms``."""
        deadline = time.monotonic() + self.step_timeout_ms / 1000
        quiet_since = time.monotonic()
        while True:
            busy = bool(self.open or self.pending or self.waiting)
            if not busy and time.monotonic() - quiet_since >= self.settle_ms / 1000:
                return
            if time.monotonic() > deadline:
                if self.waiting:
                    for client in sorted(self.waiting):
                        self.record(
                            "error",
                            step=self.current_where,
                            action="connect",
                            message=f"client {client!r} did not connect",
                        )
                    self.waiting.clear()
                    continue
                raise RealError(f"{self.current_where} did not finish in time")
            if self.drain(self.settle_ms / 1000 / 4):
                quiet_since = time.monotonic()

    # -- the run --------------------------------------------------------------------------
    def run(self) -> RealResult:
        """Play the scenario; every process started is stopped, whatever happens."""
        try:
            return self._run()
        finally:
            self.stop()

    def _run(self) -> RealResult:
        self.last_node = {}
        self.current = None
        self.current_where = ""
        agenda: list[tuple[float, int, Callable[[], None], Any, str]] = []
        for i, spec in enumerate(self.scenario.all_clients()):
            where = f"clients[{i}]"
            agenda.append(
                (spec.connect_at, len(agenda), lambda s=spec: self.first_connect(s), None, where)  # type: ignore[misc]
            )
        for step in self.scenario.timeline:
            agenda.append(
                (step.at, len(agenda), lambda s=step: self.play(s), step, f"timeline[{step.index}]")  # type: ignore[misc]
            )
        agenda.sort(key=lambda item: (item[0], item[1]))
        until = self.scenario.until
        self.lateness = []
        self.start()
        first = agenda[0][0] if agenda else 0.0
        prepares: list[tuple[float, str, str, list[str]]] = []
        if self.timed:
            # the clients there from the start connect before the clock starts
            while agenda and agenda[0][3] is None and agenda[0][0] == first:
                _, _, action, _, where = agenda.pop(0)
                self.current, self.current_where = None, where
                self.step_at, self.step_no = first, self.step_no + 1
                action()
            self.settle()
        self.t0 = _now() - (first * self.scale if self.timed else 0.0)
        if self.timed:
            for at, _, _, step, where in agenda:
                who = self.connection_of(step, where)
                if who is not None:
                    name, node, rooms = who
                    ahead = PREPARE_HOPS * self.client_delay(name, node) + PREPARE_MS
                    prepares.append((self.t0 + at * self.scale - ahead, name, node, rooms))
            prepares.sort(key=lambda p: p[0])
        try:
            for at, _order, action, step, where in agenda:
                if until is not None and at > until:
                    break
                self.current, self.current_where = step, where
                if self.timed:
                    due = self.t0 + at * self.scale
                    by = self.played_by_client(step, where)
                    start = due - self.client_delay(*by) if by is not None else due
                    self.wait_until(start, prepares)
                    if self.connection_of(step, where) is not None:
                        self.connect_due = due  # its lateness is measured on arrival
                    else:
                        self.lateness.append((_now() - start) / self.scale)
                        self.await_connections(due)
                self.step_at = at
                self.step_t0 = _now()
                self.step_no += 1
                action()
                if not self.timed:
                    self.settle()
            self.current, self.current_where = None, "end"
            if self.timed:
                end = self.scenario.until
                if end is not None:
                    due = self.t0 + end * self.scale
                    while _now() < due:
                        self.drain(min(0.005, (due - _now()) / 1000))
                else:
                    self.settle_ms = max(self.settle_ms, 4 * self.longest_hop_ms())
                    self.settle()
        finally:
            self.stop()
        noisy = None
        lateness = self.lateness
        if self.timed and lateness:
            times = sorted({a for a, *_ in agenda})
            gaps = [b - a for a, b in itertools.pairwise(times) if b > a] or [1.0]
            worst = max(lateness)
            if worst > NOISE_SHARE * min(gaps):
                noisy = (
                    f"a step was {worst:.3g} ms off its time, more than {NOISE_SHARE:.0%} of the "
                    f"smallest gap between steps ({min(gaps):.3g} ms): rerun with a larger --scale"
                )
        return RealResult(
            self.records(), timed=self.timed, scale=self.scale, lateness_ms=lateness, noisy=noisy
        )

    def connection_of(self, step: Any, where: str) -> tuple[str, str, list[str]] | None:
        """The client, node and rooms of a connecting agenda item, else None."""
        if step is None:
            spec = self.scenario.all_clients()[int(where[len("clients[") : -1])]
            return spec.name, spec.node, list(spec.rooms)
        if step.action == "connect":
            body = step.body
            node = body.node if body.node is not None else self.specs[body.client].node
            return body.client, node, list(body.rooms)
        return None

    def played_by_client(self, step: Any, where: str) -> tuple[str, str] | None:
        """The client (and its node) that plays an agenda item, else None (a server plays it)."""
        who = self.connection_of(step, where)
        if who is not None:
            return who[0], who[1]
        if step.action == "disconnect" and step.body.reason in CLIENT_PLAYED:
            name = step.body.client
            return name, self.node_of.get(name) or self.specs[name].node
        return None

    def wait_until(self, due: float, prepares: list[tuple[float, str, str, list[str]]]) -> None:
        """Timed runs: handle messages until wall time ``due``, opening connections on time."""
        while True:
            while prepares and prepares[0][0] <= _now():
                _, name, node, rooms = prepares.pop(0)
                self.prepare(name, node, rooms)
            left = due - _now()
            if left <= 0:
                return
            if prepares:
                left = min(left, prepares[0][0] - _now())
            self.drain(max(0.0, min(0.005, left / 1000)))

    def await_connections(self, due: float) -> None:
        """Timed runs: connections due by ``due`` come first (clients before steps)."""
        limit = time.monotonic() + (2 * self.longest_hop_ms() + 100.0) / 1000
        while time.monotonic() < limit and any(
            sent[1] is not None and sent[1] <= due for sent in self.connect_sent.values()
        ):
            self.drain(0.002)

    def longest_hop_ms(self) -> float:
        """Timed runs: the longest injected one-way delay, client or broker (real ms)."""
        lat = self.scenario.latency
        values = [_number(lat.client_ms), _number(lat.adapter_ms)]
        values += [_number(s.latency_ms) for s in self.specs.values() if s.latency_ms is not None]
        for own in lat.nodes.values():
            values += [_number(own.client_ms), _number(own.adapter_ms)]
        return max((v or 0.0 for v in values), default=0.0) * self.scale

    def record_step(self, kind: str, **fields: Any) -> None:
        self.record(kind, **fields)

    def error(self, message: str, **extra: Any) -> None:
        step = self.current
        action = step.action if step is not None else "connect"
        self.record_step("error", step=self.current_where, action=action, message=message, **extra)

    # -- steps ------------------------------------------------------------------------------
    def first_connect(self, spec: Any) -> None:
        self.connect(spec.name, spec.node, list(spec.rooms))

    def client_delay(self, name: str, node: str) -> float:
        """Timed runs: the real one-way delay of ``name``'s link to ``node`` (ms)."""
        if not self.timed:
            return 0.0
        spec = self.specs[name]
        own = self.scenario.latency.nodes.get(node)
        lat = spec.latency_ms
        if lat is None and own is not None:
            lat = own.client_ms
        if lat is None:
            lat = self.scenario.latency.client_ms
        return (_number(lat) or 0.0) * self.scale

    def prepare(self, name: str, node: str, rooms: list[str]) -> None:
        """Open ``name``'s next connection to ``node`` (its transport, no socket yet)."""
        spec = self.specs[name]
        self.command(
            "clients",
            {
                "op": "prepare",
                "name": name,
                "node": node,
                "namespace": spec.namespace,
                "rooms": rooms,
                "ack": spec.ack,
                "reconnection": spec.reconnect,
                "reconnectionDelay": spec.reconnection_delay,
                "reconnectionDelayMax": spec.reconnection_delay_max,
                "randomizationFactor": spec.randomization_factor,
                "delayMs": self.client_delay(name, node),
            },
        )
        self.prepared.add(name)

    def connect(self, name: str, node: str, rooms: list[str]) -> None:
        problem = None
        if name in self.node_of:
            problem = f"client {name!r} is already connected (to {self.node_of[name]})"
        elif not self.alive.get(node):
            problem = f"node {node!r} is down"
        if problem is not None:
            self.error(problem)
            if name in self.prepared:
                self.prepared.discard(name)
                self.command("clients", {"op": "discard", "name": name})
            return
        if name not in self.prepared:
            self.prepare(name, node, rooms)
        self.prepared.discard(name)
        self.waiting.add(name)
        self.connect_sent[name] = (_now(), self.connect_due)
        self.connect_due = None
        self.command("clients", {"op": "go", "name": name})

    def play(self, step: Any) -> None:
        getattr(self, f"_{step.action}")(step, step.body)

    def _room(self, name: str) -> str:
        """A client's name means its socket id (current, else last); else it is a room."""
        if name in self.specs and name in self.sid_of:
            return self.sid_of[name]
        return name

    def _connected(self, name: str, **extra: Any) -> str | None:
        node = self.node_of.get(name)
        if node is None:
            self.error(f"client {name!r} is not connected", **extra)
        return node

    def _join(self, step: Any, body: Any) -> None:
        node = self._connected(body.client)
        if node is not None:
            self.command(node, {"op": "join", "client": body.client, "rooms": list(body.rooms)})

    def _leave(self, step: Any, body: Any) -> None:
        node = self._connected(body.client)
        if node is not None:
            self.command(node, {"op": "leave", "client": body.client, "rooms": list(body.rooms)})

    def _disconnect(self, step: Any, body: Any) -> None:
        node = self._connected(body.client)
        if node is None:
            return
        if body.reason in CLIENT_PLAYED:
            self.command("clients", {"op": CLIENT_PLAYED[body.reason], "name": body.client})
        else:
            self.command(node, {"op": "disconnect", "client": body.client, "reason": body.reason})

    def _connect(self, step: Any, body: Any) -> None:
        node = body.node if body.node is not None else self.specs[body.client].node
        self.connect(body.client, node, list(body.rooms))

    def _target(self, body: Any, **extra: Any) -> tuple[str, dict[str, Any]] | None:
        """The node a targeted step runs on and the command's targeting keys."""
        sender = body.from_
        from_client = sender in self.specs
        if from_client:
            node = self._connected(sender, **extra)
            if node is None:
                return None
            namespace = self.specs[sender].namespace
        else:
            node = sender
            if not self.alive[node]:
                self.error(f"node {node!r} is down", **extra)
                return None
            namespace = body.namespace or "/"
        cmd = {
            "fromClient": from_client,
            "from": sender,
            "namespace": namespace,
            "to": [self._room(r) for r in body.to] if body.to is not None else None,
            "except": [self._room(r) for r in body.except_],
            "local": bool(body.local),
        }
        return node, cmd

    def _emit(self, step: Any, body: Any) -> None:
        if body.event in RESERVED_EVENTS:
            self.error(f'"{body.event}" is a reserved event name', msg=body.id)
            return
        target = self._target(body, msg=body.id)
        if target is None:
            return
        node, cmd = target
        excluded = list(cmd["except"])
        if cmd["fromClient"]:
            excluded.append(self.sid_of[body.from_])
        fields: dict[str, Any] = {
            "msg": body.id,
            "node": node,
            "event": body.event,
            "from": body.from_,
            "to": list(dict.fromkeys(cmd["to"] or [])),
            "except": list(dict.fromkeys(excluded)),
        }
        if body.local:
            fields["local"] = True
        if body.volatile:
            fields["volatile"] = True
        if body.ack:
            fields["ack"] = True
        if cmd["namespace"] != "/":
            fields["namespace"] = cmd["namespace"]
        self.record_step("emit", **fields)
        cmd.update(
            op="emit",
            msg=body.id,
            event=body.event,
            hasData=body.data is not None,
            data=body.data,
            volatile=bool(body.volatile),
            ack=bool(body.ack),
            timeout=body.timeout,
        )
        self.command(node, cmd)

    def _utility(self, op: str, body: Any, **extra: Any) -> None:
        target = self._target(body)
        if target is not None:
            node, cmd = target
            cmd.update(op=op, **extra)
            self.command(node, cmd)

    def _sockets_join(self, step: Any, body: Any) -> None:
        self._utility("sockets_join", body, rooms=list(body.rooms))

    def _sockets_leave(self, step: Any, body: Any) -> None:
        self._utility("sockets_leave", body, rooms=list(body.rooms))

    def _disconnect_sockets(self, step: Any, body: Any) -> None:
        self._utility("disconnect_sockets", body, close=bool(body.close))

    def _fetch_sockets(self, step: Any, body: Any) -> None:
        self._utility("fetch_sockets", body, step=f"timeline[{step.index}]", timeout=body.timeout)

    def _server_side_emit(self, step: Any, body: Any) -> None:
        if body.event in ("connect", "connection", "new_namespace"):
            self.error(f'"{body.event}" is a reserved event name')
            return
        if not self.alive[body.from_]:
            self.error(f"node {body.from_!r} is down")
            return
        self.command(
            body.from_,
            {
                "op": "server_side_emit",
                "namespace": body.namespace or "/",
                "event": body.event,
                "hasData": body.data is not None,
                "data": body.data,
                "ack": bool(body.ack),
                "step": f"timeline[{step.index}]",
            },
        )

    # -- failures -----------------------------------------------------------------------------
    def _crash(self, step: Any, body: Any) -> None:
        node = body.node
        if not self.alive[node]:
            self.error(f"node {node!r} is already down")
            return
        self.record_step("crash", node=node)
        proc = self.servers[node]
        self.expected_exit.add(node)
        proc.kill()
        self.alive[node] = False
        for client, where in sorted(self.node_of.items()):
            if where == node:
                self.record_step(
                    "disconnect",
                    client=client,
                    node=node,
                    sid=self.sid_of[client],
                    reason="transport close",
                    rooms=[],
                    crash=True,
                )
        self.node_of = {c: n for c, n in self.node_of.items() if n != node}
        self.open = {i: p for i, p in self.open.items() if p != node}
        self.send_nodes()

    def _restart(self, step: Any, body: Any) -> None:
        node = body.node
        if self.alive[node] or (node in self.servers and node not in self.expected_exit):
            self.error(f"node {node!r} is up")
            return
        self.expected_exit.discard(node)
        self.record_step("restart", node=node)
        self.start_node(node)
        if self.alive[node]:
            self.send_nodes()
            self.wait_subscribed()

    def _broker(self, step: Any, state: str) -> None:
        if self.redis is None:
            self.error(f"broker {state}: the {self.adapter!r} adapter has no broker")
            return
        if state == "down":
            self.redis.stop()
            self.broker_up = False
        else:
            self.redis.start()
            self.broker_up = True
        self.record_step("broker", state=state)
        if state == "up":
            starting = [n for n in self.servers if n not in self.expected_exit]
            self.wait_for(
                lambda: all(self.alive[n] for n in starting), "the nodes to reach Redis again"
            )
            self.wait_subscribed()

    def _partition(self, step: Any, body: Any) -> None:
        if self.redis is None:
            self.error(f"partition: the {self.adapter!r} adapter has no broker")
            return
        self.record_step("partition", node=body.node, direction=body.direction)
        if self.alive[body.node]:
            self.command(body.node, {"op": "partition", "direction": body.direction})

    def _heal(self, step: Any, body: Any) -> None:
        if self.redis is None:
            self.error(f"heal: the {self.adapter!r} adapter has no broker")
            return
        self.record_step("heal", node=body.node)
        if self.alive[body.node]:
            self.command(body.node, {"op": "heal"})


def run_real(
    scenario: Scenario,
    *,
    timed: bool = False,
    scale: float | None = None,
    settle_ms: float = 40.0,
    step_timeout_ms: float | None = None,
    trace_path: str | Path | None = None,
) -> RealResult:
    """Play ``scenario`` on real Socket.IO servers, Redis and clients.

    Raises :class:`Unplayable` for a key it cannot play and
    :class:`~roomsim.real.procs.RealError` when the real cluster fails.
    With ``trace_path`` the records are also written there (JSON Lines,
    moved into place only when the run succeeded).
    """
    playable(scenario, timed=timed)
    if scale is None:
        scale = default_scale(scenario) if timed else 1.0
    if step_timeout_ms is None:
        step_timeout_ms = scenario.cluster.requests_timeout_ms + 10_000.0
    driver = _Driver(
        scenario,
        timed=timed,
        scale=float(scale),
        settle_ms=settle_ms,
        step_timeout_ms=step_timeout_ms,
    )
    result = driver.run()
    if trace_path is not None:
        trace = Trace(trace_path, keep=False)
        for rec in result.records:
            rec = dict(rec)
            trace.record(rec.pop("t"), rec.pop("kind"), **rec)
        trace.close()
    return result
