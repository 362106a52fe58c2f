"""A real Socket.IO cluster under steady load, measured: the harness of ``roomsim calibrate``.

Unlike ``roomsim real`` (which plays a scenario step by step and records
every delivery), this harness measures load: each server node is a Node
process in rate mode (``load-node.js``) that emits on its own timer, with
the send time in every packet; the clients are spread over processes of
their own (``load-clients.js``), connected straight to the nodes (no
proxies), and keep a latency histogram each (the nodes and the clients run
on the same machine, so a receive time minus the send time, both
``performance.timeOrigin + performance.now()``, is the delivery latency).
Only counts and histograms come back to Python.

Each node reports, for a load window (the load and the settling after it),
its CPU time (``process.cpuUsage()``), its event-loop utilisation
(``performance.eventLoopUtilization()``) and what it did: emits, frames
written and their bytes, broker messages received and their bytes,
connections, joins, acknowledgements and client packets.  Redis's CPU time
and publishes come from ``INFO``.

Examples
--------
A sketch of a run (it needs Node.js, Redis and ``roomsim real --install``)::

    with LoadCluster(layout(300, 3)) as cluster:
        window = cluster.run(Load("all", rate=20, bytes=20))
        print(window.latency(), window.throughput)
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from roomsim.real.procs import JsonProcess, RealError, RedisServer
from roomsim.real.tools import HERE, node_path, redis_path

__all__ = [
    "CLIENT_KINDS",
    "COUNTS",
    "Load",
    "LoadCluster",
    "Window",
    "layout",
    "percentile",
    "throughput",
]

#: a latency bin ``k`` of the clients' histograms holds [MIN_MS * RATIO**k, MIN_MS * RATIO**(k+1))
MIN_MS = 0.01
RATIO = 1.01
#: the arrival series' slot, in ms
SERIES_MS = 10.0

#: what each node counts in a window (the regressors of the fit)
COUNTS = (
    "emits",
    "emitBytes",
    "frames",
    "frameBytes",
    "brokerIn",
    "brokerBytes",
    "connects",
    "joins",
    "acks",
    "packets",
    "packetBytes",
    "directs",
)
#: loads made by the client processes (the others by the nodes)
CLIENT_KINDS = ("connect", "packet")
KINDS = ("room", "random", "all", "ack", "direct", "join", "idle", *CLIENT_KINDS)


@dataclass(frozen=True)
class Load:
    """One steady load.

    Parameters
    ----------
    kind : str
        ``room`` (every emit to ``rooms[0]``), ``random`` (to a random room
        of ``rooms``), ``all`` (the namespace), ``ack`` (to one random local
        socket, with an acknowledgement), ``direct`` (the same without),
        ``join`` (a local socket joins a
        room and leaves one), ``connect`` (new connections, each closed once
        made), ``packet`` (events from random clients), ``idle``.
    rate : float
        Per second from each emitting node (``connect``, ``packet``: from
        each client process).
    bytes : int
        Payload bytes of each emit or client event.
    rooms : tuple of str
    nodes : tuple of int, optional
        The emitting nodes (indexes; default every node).
    seconds : float
        The length of the window.
    subscribers : int
        Extra Redis connections subscribed to every broadcast during the
        window (they make Redis hand out more copies per message).

    Examples
    --------
    >>> Load("all", rate=20).describe()
    'all 20/s/node 20 B 2 s'
    """

    kind: str
    rate: float = 0.0
    bytes: int = 20
    rooms: tuple[str, ...] = ()
    nodes: tuple[int, ...] | None = None
    seconds: float = 2.0
    subscribers: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"load kind {self.kind!r}: expected one of {', '.join(KINDS)}")

    def describe(self) -> str:
        """One line: kind, rate, payload, length."""
        if self.name:
            return self.name
        per = "process" if self.kind in CLIENT_KINDS else "node"
        where = f" {','.join(self.rooms[:1])}" if self.kind == "room" else ""
        who = "" if self.nodes is None else " from " + ",".join(f"n{i + 1}" for i in self.nodes)
        extra = f" +{self.subscribers} subscribers" if self.subscribers else ""
        rate = f"{self.rate:g}/s/{per}{who}"
        return f"{self.kind}{where} {rate} {self.bytes} B {self.seconds:g} s{extra}"


def layout(
    clients: int, nodes: int, rooms: Callable[[int, int], list[str]] | None = None
) -> list[tuple[int, list[str]]]:
    """Client ``i`` on node ``i % nodes``, in the rooms ``rooms(i, node)``.

    The default rooms: ``n<node>`` (every client of that node), ``x<i // 10>``
    (rooms of ten spread round robin over the nodes), and ``one<node>`` for
    the first client of each node.

    Examples
    --------
    >>> layout(4, 2)[:3]
    [(0, ['n0', 'x0', 'one0']), (1, ['n1', 'x0', 'one1']), (0, ['n0', 'x0'])]
    """

    def default(i: int, node: int) -> list[str]:
        names = [f"n{node}", f"x{i // 10}"]
        if i < nodes:
            names.append(f"one{node}")
        return names

    make = rooms or default
    return [(i % nodes, make(i, i % nodes)) for i in range(clients)]


def throughput(series: list[int], slot_ms: float) -> float:
    """Deliveries per second: 99% of them over the time from the first emit until 99%
    had arrived (past saturation, the rate the cluster achieved, backlog included).

    Examples
    --------
    >>> round(throughput([100] * 10 + [1], 10.0))   # 1001 deliveries, 99% by the 10th slot
    9910
    """
    total = sum(series)
    if not total:
        return 0.0
    want, seen = 0.99 * total, 0
    for k, n in enumerate(series):
        seen += n
        if seen >= want:
            return want / ((k + 1) * slot_ms) * 1000
    return want / (len(series) * slot_ms) * 1000


def percentile(hist: dict[int, int], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of a latency histogram, in ms (a bin's geometric middle).

    Examples
    --------
    >>> round(percentile({0: 1, 230: 98, 460: 1}, 50), 2)
    0.1
    """
    total = sum(hist.values())
    if total == 0:
        return None
    rank = q / 100 * total
    seen = 0
    for k in sorted(hist):
        seen += hist[k]
        if seen >= rank:
            return MIN_MS * RATIO ** (k + 0.5)
    return MIN_MS * RATIO ** (max(hist) + 0.5)


@dataclass
class Window:
    """What one load window measured."""

    load: Load
    #: per node: the counts of :data:`COUNTS`, ``cpuMs``, ``elu``, ``eluActiveMs``, ``wallMs``
    nodes: list[dict[str, Any]]
    #: per client process: ``received``, ``connects``, ``packets``, ``cpuMs``
    clients: list[dict[str, Any]]
    #: Redis: ``cpuMs``, ``publishes``
    redis: dict[str, float]
    hist: dict[int, int] = field(default_factory=dict)
    received: int = 0
    #: deliveries per second received during the steady part of the window
    throughput: float = 0.0
    #: deliveries received per :data:`SERIES_MS`, from the first emit
    series: list[int] = field(default_factory=list)

    def latency(self) -> dict[str, float | None]:
        """p50, p95, p99 and max delivery latency, in ms."""
        return {
            "p50": percentile(self.hist, 50),
            "p95": percentile(self.hist, 95),
            "p99": percentile(self.hist, 99),
            "max": percentile(self.hist, 100),
        }


class _Subscriber:
    """A raw Redis connection subscribed to a pattern, reading and dropping what comes."""

    def __init__(self, port: int, pattern: str) -> None:
        self.conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        words = ("PSUBSCRIBE", pattern)
        payload = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
        self.conn.sendall(payload.encode())
        self.conn.settimeout(None)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self.conn.recv(1 << 16):
                pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_RDWR)
        self.conn.close()


class LoadCluster:
    """Redis, ``nodes`` Socket.IO nodes in rate mode, and client processes.

    Parameters
    ----------
    clients : list of (node index, rooms)
        Where each client connects and what it joins (see :func:`layout`).
    nodes : int
    processes : int
        Client processes; client ``i`` goes to process ``i % processes``.
    adapter : str
        ``redis`` (the classic Redis adapter) or ``memory`` (one node).
    """

    def __init__(
        self,
        clients: list[tuple[int, list[str]]],
        nodes: int = 3,
        processes: int = 2,
        adapter: str = "redis",
    ) -> None:
        if adapter not in ("redis", "memory"):
            raise ValueError(f"adapter {adapter!r}: the load harness has redis and memory")
        if adapter == "memory" and nodes != 1:
            raise ValueError("the memory adapter joins no nodes: use nodes=1")
        self.clients = clients
        self.n_nodes = nodes
        self.n_procs = max(1, min(processes, len(clients) or 1))
        self.adapter = adapter
        self.events: queue.Queue[Any] = queue.Queue()
        self.inbox: dict[str, list[dict[str, Any]]] = {}
        self.redis: RedisServer | None = None
        self.servers: list[JsonProcess] = []
        self.procs: list[JsonProcess] = []
        self.ports: list[int] = []
        self.next_id = 0

    # -- processes -----------------------------------------------------------------
    def __enter__(self) -> LoadCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start Redis, the nodes and the client processes; connect every client."""
        node = node_path()
        if node is None:
            raise RealError("Node.js is missing")
        if self.adapter == "redis":
            exe = redis_path()
            if exe is None:
                raise RealError("redis-server is missing")
            self.redis = RedisServer(exe)
            self.redis.start()
        for i in range(self.n_nodes):
            cfg = {
                "node": f"n{i + 1}",
                "adapter": self.adapter,
                "redisPort": self.redis.port if self.redis else None,
            }
            self.servers.append(
                JsonProcess(
                    f"n{i + 1}", [node, str(HERE / "load-node.js"), json.dumps(cfg)], self.events
                )
            )
        ready = self._wait([s.name for s in self.servers], "ready", 20.0, "the nodes to start")
        self.ports = [int(ready[s.name]["port"]) for s in self.servers]
        self._wait_subscribed()
        urls = [f"http://127.0.0.1:{p}" for p in self.ports]
        for k in range(self.n_procs):
            proc = JsonProcess(
                f"c{k + 1}", [node, str(HERE / "load-clients.js")], self.events, HERE
            )
            self.procs.append(proc)
            mine = [list(c) for i, c in enumerate(self.clients) if i % self.n_procs == k]
            proc.send({"op": "setup", "urls": urls, "clients": mine})
        timeout = 20.0 + len(self.clients) / 50
        self._wait([p.name for p in self.procs], "ready", timeout, "the clients to connect")
        self.warm_up()

    def warm_up(self, seconds: float = 0.6) -> None:
        """Play a few loads unmeasured: Node compiles its hot code during the first ones,
        which makes them cost more than twice what they cost later."""
        spread = tuple(sorted({r for _, rooms in self.clients for r in rooms}))
        for load in (
            Load("all", 10, 50, seconds=seconds),
            Load("random", 200, 100, rooms=spread, seconds=seconds),
            Load("ack", 200, 20, seconds=seconds),
            Load("direct", 200, 20, seconds=seconds),
            Load("join", 1000, seconds=seconds),
        ):
            self.run(load, settle_ms=100)

    def stop(self) -> None:
        """Stop every process this cluster started."""
        for proc in [*self.procs, *self.servers]:
            proc.stop(timeout=1.0)
        if self.redis is not None:
            self.redis.stop()
        self.procs, self.servers = [], []

    def _wait_subscribed(self, timeout_s: float = 10.0) -> None:
        if self.redis is None:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, RealError):
                reply = self.redis.command("PUBSUB", "NUMSUB", "socket.io-request#/#")
                if int(reply[1]) >= self.n_nodes:  # each node subscribes it with its pattern
                    time.sleep(0.1)
                    return
            time.sleep(0.02)
        raise RealError("the nodes did not subscribe to Redis in time")

    def _wait(
        self, names: Iterable[str], ev: str, timeout_s: float, what: str, id: int | None = None
    ) -> dict[str, dict[str, Any]]:
        """Wait for message ``ev`` (with ``id``, if given) from each of ``names``."""
        want = set(names)
        got: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while want - set(got):
            left = deadline - time.monotonic()
            if left <= 0:
                lacking = ", ".join(sorted(want - set(got)))
                raise RealError(f"timed out waiting for {what} ({lacking})")
            try:
                source, msg = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if msg.get("ev") == "exit":
                proc = next((p for p in [*self.servers, *self.procs] if p.name == source), None)
                raise RealError(f"{source} died{proc.why() if proc else ''}")
            if msg.get("ev") == ev and source in want and (id is None or msg.get("id") == id):
                got[source] = msg
        return got

    # -- a load window -------------------------------------------------------------
    def _drained(self, timeout_s: float = 30.0) -> dict[str, dict[str, Any]]:
        """The clients' reports once they have stopped receiving (past saturation the
        backlog takes a while: the next window must not start in it)."""
        deadline = time.monotonic() + timeout_s
        last: int | None = None
        while True:
            self.next_id += 1
            for proc in self.procs:
                proc.send({"op": "report", "id": self.next_id})
            reports = self._wait(
                [p.name for p in self.procs], "report", 30.0, "the clients", self.next_id
            )
            got = sum(int(r["received"]) for r in reports.values())
            if got == last or time.monotonic() > deadline:
                return reports
            last = got
            time.sleep(0.2)

    def _redis_figures(self) -> dict[str, float]:
        if self.redis is None:
            return {"cpuMs": 0.0, "publishes": 0.0}
        info = str(self.redis.command("INFO", "all"))
        values: dict[str, float] = {"cpuMs": 0.0, "publishes": 0.0}
        for line in info.splitlines():
            key, _, value = line.partition(":")
            if key in ("used_cpu_sys", "used_cpu_user"):
                values["cpuMs"] += float(value) * 1000
            elif key == "cmdstat_publish":
                fields = dict(f.split("=", 1) for f in value.split(","))
                values["publishes"] = float(fields.get("calls", 0))
        return values

    def run(self, load: Load, settle_ms: float = 400.0) -> Window:
        """Play ``load`` for its window, let it settle, and return what was measured."""
        self.next_id += 1
        wid = self.next_id
        port = self.redis.port if self.redis is not None else 0
        extra = [_Subscriber(port, "socket.io#*") for _ in range(load.subscribers if port else 0)]
        try:
            if extra:
                time.sleep(0.1)
            base = time.time() * 1000
            for proc in self.procs:
                proc.send({"op": "count", "base": base})
            time.sleep(0.05)
            redis0 = self._redis_figures()
            emitting = range(self.n_nodes) if load.nodes is None else load.nodes
            by_node = load.kind not in CLIENT_KINDS
            spec = {"kind": load.kind, "rate": load.rate, "bytes": load.bytes, "rooms": load.rooms}
            for i, server in enumerate(self.servers):
                mine = spec if by_node and i in emitting else {"kind": "idle"}
                server.send(
                    {
                        "op": "start",
                        "id": wid,
                        "load": mine,
                        "seconds": load.seconds,
                        "settleMs": settle_ms,
                    }
                )
            if not by_node:
                for proc in self.procs:
                    proc.send({"op": "load", **spec, "seconds": load.seconds})
            timeout = load.seconds + settle_ms / 1000 + 60.0
            stats = self._wait([s.name for s in self.servers], "stats", timeout, "the load", wid)
            redis1 = self._redis_figures()
            reports = self._drained()
        finally:
            for sub in extra:
                sub.close()
        nodes = [stats[s.name] for s in self.servers]
        clients = [reports[p.name] for p in self.procs]
        hist: dict[int, int] = {}
        series: list[int] = []
        for report in clients:
            for k, n in report["hist"].items():
                hist[int(k)] = hist.get(int(k), 0) + int(n)
            for slot, n in enumerate(report["series"]):
                if slot >= len(series):
                    series.append(0)
                series[slot] += int(n)
        begin = int((min(n["from"] for n in nodes) - base) // SERIES_MS)
        series = series[max(0, begin) :]
        return Window(
            load=load,
            nodes=nodes,
            clients=clients,
            redis={k: redis1[k] - redis0[k] for k in redis0},
            hist=hist,
            received=sum(int(r["received"]) for r in clients),
            throughput=throughput(series, SERIES_MS),
            series=series,
        )
