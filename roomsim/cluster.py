"""The cluster: nodes, their adapter, the broker, the clients; the public entry point."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import simpy

from roomsim._gc import gc_paused, settle
from roomsim._sched import one_event_per_instant
from roomsim.adapters import ADAPTERS, InMemoryAdapter, RedisAdapter, ShardedRedisAdapter
from roomsim.broker import Broker
from roomsim.client import Client
from roomsim.ids import rng, socket_id, socket_ids
from roomsim.latency import delay, halved
from roomsim.loop import Machine, NodeLoop
from roomsim.network import ClientLinks
from roomsim.node import MessageIds, NodeContext
from roomsim.profile import CostProfile
from roomsim.recovery import SessionStore
from roomsim.rooms import RoomRegistry
from roomsim.server import Server, normalize_namespace
from roomsim.trace import Trace
from roomsim.vocabulary import BROKER, CRASH, HEAL, PARTITION, RESTART

if TYPE_CHECKING:
    import random

    from roomsim.adapters.interface import AdapterNamespace
    from roomsim.namespace import Namespace

__all__ = ["Cluster"]


def node_names(nodes: int | Iterable[str]) -> list[str]:
    """``3`` means ``["n1", "n2", "n3"]``; a list of names is kept as it is.

    Examples
    --------
    >>> node_names(3), node_names(["a", "b"])
    (['n1', 'n2', 'n3'], ['a', 'b'])
    """
    if isinstance(nodes, int):
        if nodes < 1:
            raise ValueError(f"a cluster needs at least one node, got {nodes}")
        return [f"n{i}" for i in range(1, nodes + 1)]
    names = [str(n) for n in nodes]
    if not names:
        raise ValueError("a cluster needs at least one node")
    if len(set(names)) != len(names):
        raise ValueError(f"node names must be unique, got {names}")
    return names


class Cluster:
    """Server nodes running the same application, joined by an adapter.

    Parameters
    ----------
    nodes : int or list of str
        Node names, or how many (``3`` means n1, n2, n3).  Default: one node.
    adapter : {"memory", "redis", "sharded-redis"}, optional
        ``memory`` (one node only), ``redis`` (the classic Redis adapter) or
        ``sharded-redis``.  Default: ``memory`` for one node, ``redis`` for more.
    seed : int
        Everything random (socket ids, and later latencies) follows from it.
    client_ms : float or mapping
        One-way latency between a client and its node, in ms: a number, or a
        distribution such as ``{"uniform": [1, 9]}`` (see :mod:`roomsim.latency`).
    adapter_ms : float or mapping
        One-way latency from a node through the broker to another node, in
        ms (half of it each hop); a number or a distribution.
    subscription_mode : {"dynamic", "static", "dynamic-private"}
        How the sharded adapter subscribes to rooms' channels.
    publish_ms, copy_ms : float
        The broker's own time per message and per copy it hands out; a busy
        broker queues (see :class:`~roomsim.broker.Broker`).  Default 0: an
        ideal broker.  Redis spends roughly 0.005 ms per ``PUBLISH`` and
        0.001 ms per copy.
    costs : CostProfile, optional
        Give every node an event loop that charges this profile (see
        :mod:`roomsim.loop`); its ``publish_ms`` and ``copy_ms`` set the
        broker's.  Without it every node is ideal.
    requests_timeout_ms : float
        How long the classic Redis adapter waits for other nodes' answers.
    connection_state_recovery : float, optional
        Turn on connection state recovery with this ``max_disconnection_duration``
        in ms (the ``memory`` adapter supports it, as in Socket.IO; the Redis
        adapters do not, and ignore it).
    sticky : bool
        The load balancer sends a reconnecting client back to its last node
        when that node is up (else round robin over the nodes that are up).
    trace : Trace, optional
        Where records go; by default a new in-memory :class:`Trace`.

    Examples
    --------
    >>> sim = Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
    >>> @sim.on("connection")
    ... def on_connection(socket):
    ...     socket.join("lobby")
    >>> alice = sim.connect("alice", node="n1")
    >>> bob = sim.connect("bob", node="n2")
    >>> msg = sim.io("n1").to("lobby").emit("news", {"x": 1})
    >>> sim.run()
    >>> [(r["t"], r["client"]) for r in sim.trace.records("deliver", msg=msg)]
    [(5, 'alice'), (7, 'bob')]
    """

    def __init__(
        self,
        nodes: int | Iterable[str] = 1,
        adapter: str | None = None,
        *,
        seed: int = 0,
        client_ms: float | Any = 0.0,
        adapter_ms: float | Any = 0.0,
        subscription_mode: str = "dynamic",
        publish_ms: float = 0.0,
        copy_ms: float = 0.0,
        requests_timeout_ms: float = 5000.0,
        sticky: bool = False,
        connection_state_recovery: float | None = None,
        trace: Trace | None = None,
        env: simpy.Environment | None = None,
        costs: CostProfile | None = None,
    ) -> None:
        names = node_names(nodes)
        if adapter is None:
            adapter = "memory" if len(names) == 1 else "redis"
        if adapter not in ADAPTERS:
            raise ValueError(f"unknown adapter {adapter!r}; expected one of {sorted(ADAPTERS)}")
        if not ADAPTERS[adapter].joins_nodes and len(names) > 1:
            raise ValueError(f"the {adapter!r} adapter cannot join {len(names)} nodes; use 'redis'")
        adapter_delay = delay(adapter_ms)
        #: the cost profile every node's loop charges (None: ideal nodes)
        self.costs = costs
        #: each message's encoded size, shared by the nodes' loops
        self.frame_sizes: dict[str, int] = {}
        #: the cores the nodes share (a profile's ``cores``; None: a core each)
        self.machine = Machine(costs.cores) if costs is not None and costs.cores > 0 else None
        if costs is not None:  # the broker's entries are part of the profile
            publish_ms, copy_ms = costs.publish_ms, costs.copy_ms
        self.env = env if env is not None else simpy.Environment()
        self.seed = seed
        self.adapter = adapter
        self.trace = trace if trace is not None else Trace()
        self.links = ClientLinks(self.env, self.trace, client_ms, seed=seed)
        self.subscription_mode = subscription_mode
        self.requests_timeout_ms = requests_timeout_ms
        self.broker = (
            Broker(
                self.env,
                adapter_delay.mean / 2,
                publish_ms=publish_ms,
                copy_ms=copy_ms,
                seed=seed,
            )
            if ADAPTERS[adapter].joins_nodes
            else None
        )
        if self.broker is not None and adapter_delay.constant is None:
            for name in names:
                self.broker.set_hop(name, halved(adapter_delay))
        self.clients: dict[str, Client] = {}
        #: message ids of the run, shared by every node and client
        self.ids = MessageIds()
        self._uids: set[str] = set()
        self._restarts: dict[str, int] = {}
        self._next_node = itertools.cycle(names)
        self.sticky = sticky
        #: True once nothing scheduled from outside (a scenario's steps) is left:
        #: a client that finds no node up then stops retrying, so the run can end
        self.settled = False
        self.connection_state_recovery = connection_state_recovery
        #: cluster-wide handlers, installed again on a restarted node
        self._app: list[tuple[str, str, Callable[..., Any]]] = []
        #: every namespace the application uses, declared on every node
        self.namespaces: list[str] = []
        self.nodes: dict[str, Server] = {}
        for name in names:
            self.nodes[name] = Server(self._context(name))

    def __repr__(self) -> str:
        return (
            f"<Cluster {list(self.nodes)} adapter={self.adapter!r} t={self.env.now}"
            f" clients={len(self.clients)}>"
        )

    # -- wiring ---------------------------------------------------------------
    def _context(self, node: str) -> NodeContext:
        """A new node's context: the run's clock, trace, links and ids, and how
        this cluster makes its adapters and declares its namespaces."""
        return NodeContext(
            node,
            self.env,
            self.trace,
            self.links,
            self.ids,
            make_adapter=self._make_adapter,
            declare_namespace=self.declare_namespace,
            loop=(
                NodeLoop(
                    self.env,
                    self.costs,
                    self.frame_sizes,
                    self.machine,
                    rng=self.rng(f"sched {node}") if self.costs.sched_ms > 0 else None,
                )
                if self.costs is not None
                else None
            ),
        )

    def _make_adapter(self, nsp: AdapterNamespace) -> InMemoryAdapter:
        if self.broker is None:
            adapter = InMemoryAdapter(nsp)
            if self.connection_state_recovery is not None:
                adapter.sessions = SessionStore(self.connection_state_recovery)
            return adapter
        size = 16 if self.adapter == "sharded-redis" else 6
        start = self._restarts.get(nsp.node, 0)
        uid = socket_id(self.seed, "adapter", nsp.node, nsp.name, start)[:size]
        while uid in self._uids:  # each node's adapter has its own id, as in Socket.IO
            uid = socket_id(self.seed, "adapter", uid)[:size]
        self._uids.add(uid)
        if self.adapter == "sharded-redis":
            return ShardedRedisAdapter(
                nsp, self.broker, uid, subscription_mode=self.subscription_mode
            )
        return RedisAdapter(nsp, self.broker, uid, requests_timeout_ms=self.requests_timeout_ms)

    def rng(self, stream: str) -> random.Random:
        """A random stream of this run, independent of every other stream."""
        return rng(self.seed, stream)

    def new_msg_id(self, explicit: str | None = None) -> str:
        """A message id: ``explicit`` if given (it must be new), else ``m1``, ``m2``, ...

        Automatic ids skip every id already used or reserved.
        """
        return self.ids.new(explicit)

    def reserve_msg_ids(self, ids: Iterable[str]) -> None:
        """Keep automatic ids clear of these (a scenario's own ids, used later)."""
        self.ids.reserve(ids)

    # -- the application --------------------------------------------------------
    def io(self, node: str) -> Server:
        """The server (``io``) of ``node``."""
        try:
            return self.nodes[node]
        except KeyError:
            raise KeyError(f"no node {node!r}; nodes are {list(self.nodes)}") from None

    def declare_namespace(self, name: str) -> None:
        """The application uses namespace ``name``: every node that is up has it."""
        if name in self.namespaces:
            return
        self.namespaces.append(name)
        for server in list(self.nodes.values()):
            if server.alive:
                server.of(name)

    def of(self, namespace: str) -> list[Namespace]:
        """Namespace ``namespace`` on every node (made where missing)."""
        return [server.of(namespace) for server in self.nodes.values()]

    def on(
        self,
        event: str,
        handler: Callable[..., Any] | None = None,
        *,
        namespace: str = "/",
    ) -> Any:
        """Register a namespace handler on every node (the same app code runs on each).

        Usable as a decorator: ``@sim.on("connection")``.
        """

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._app.append((namespace, event, fn))
            for nsp in self.of(namespace):
                nsp.on(event, fn)
            return fn

        return register(handler) if handler is not None else register

    # -- clients --------------------------------------------------------------------
    def connect(
        self,
        name: str,
        node: str | None = None,
        *,
        namespace: str = "/",
        rooms: Iterable[str] = (),
    ) -> Client:
        """Connect client ``name`` now (a new socket, a new id) and return it.

        ``node`` defaults to the next node in turn (round robin).  ``rooms``
        are joined in the connection, before the ``connection`` handlers run.
        A client already connected cannot connect again; one that has just
        disconnected can, before its old node has heard of it.
        """
        namespace = normalize_namespace(namespace)
        client = self.clients.get(name)
        if client is None:
            client = self.clients[name] = Client(self, name, namespace)
        elif client.connected and client.socket is not None and client.socket.connected:
            raise RuntimeError(f"client {name!r} is already connected (to {client.node})")
        elif client.namespace != namespace:
            raise ValueError(f"client {name!r} uses namespace {client.namespace!r}")
        client.hear_close_now()  # its server side may have ended, the news still on its way
        if node is None:
            node = self.pick_node(client)
            if node is None:
                raise RuntimeError("no node is up to take the connection")
        server = self.io(node)
        if not server.alive:
            raise RuntimeError(f"node {node!r} is down")
        sid = socket_id(self.seed, name, server.node, namespace, client.connections)
        server.of(namespace).add(client, sid, tuple(rooms))
        return client

    def connect_many(
        self, entries: Sequence[tuple[str, str, str, Sequence[str], bool]], start: int = 0
    ) -> int:
        """Connect new clients in bulk, as :meth:`connect` one after another would.

        ``entries[start:]`` are ``(name, node, namespace, rooms, bulk)``; they
        are connected in order, each with the socket id, rooms and records
        :meth:`connect` gives it, its ``connect`` and ``join`` records written
        as one batch (:meth:`Trace.add_connections`).  It stops at the first
        entry that needs the one-by-one path: ``bulk`` false, a name already
        known, a node that is down or unknown, or a namespace with
        ``connection`` handlers or connection state recovery.  With a cost
        profile each node's loop is charged each connection and its joins, in
        the same order as one by one.

        Returns
        -------
        int
            The index of the first entry not connected (``len(entries)`` when
            every one was).

        Examples
        --------
        >>> cluster = Cluster(nodes=2)
        >>> cluster.connect_many([("a", "n1", "/", ["r"], True), ("b", "n2", "/", [], True),
        ...                       ("a", "n2", "/", [], True)])
        2
        >>> [(r["kind"], r["client"]) for r in cluster.trace]
        [('connect', 'a'), ('join', 'a'), ('connect', 'b')]
        >>> cluster.clients["a"].sid == socket_id(cluster.seed, "a", "n1", "/", 0)
        True
        """
        from roomsim.socket import Socket

        clients, seed = self.clients, self.seed
        # each loop's connection and join charges (costs, kinds), made in one pass
        # at the end (a loop on shared cores is charged at once: their order counts)
        charges: dict[NodeLoop, tuple[list[float], list[str]]] = {}
        # per (node, namespace): the namespace, its socket ids, whether its rooms are
        # plain, its loop and that loop's pending charges (None: charged at once)
        spaces: dict[
            tuple[str, str],
            tuple[
                Namespace,
                Callable[[str], str],
                bool,
                NodeLoop | None,
                tuple[list[float], list[str]] | None,
            ]
            | None,
        ] = {}
        done: list[tuple[str, str, str, str, tuple[str, ...]]] = []

        now = self.env.now
        i, n = start, len(entries)
        try:
            # a million new objects that all stay: no collection while they come;
            # the subscriptions new rooms make: one event per instant, not one each
            with gc_paused(), one_event_per_instant(self.env):
                while i < n:
                    name, node, namespace, rooms, bulk = entries[i]
                    if not bulk or name in clients:
                        break
                    space = spaces.get((node, namespace), False)
                    if space is False:
                        nsp = self._bulk_namespace(node, namespace)
                        loop = nsp.ctx.loop if nsp is not None else None
                        pending = (
                            charges.setdefault(loop, ([], []))
                            if loop is not None and loop.machine is None
                            else None
                        )
                        space = spaces[node, namespace] = (
                            (
                                nsp,
                                socket_ids(seed, node, nsp.name),
                                _plain_rooms(nsp.adapter),
                                loop,
                                pending,
                            )
                            if nsp is not None
                            else None
                        )
                    if space is None:
                        break
                    nsp, make_id, plain, loop, pending = space  # type: ignore[misc]
                    ns = nsp.name
                    if loop is not None:  # the connection and its handshake, as one by one
                        if pending is None:
                            loop.charge(loop.profile.connect_ms, "connect")
                        else:
                            pending[0].append(loop.profile.connect_ms)
                            pending[1].append("connect")
                    client = clients[name] = Client(self, name, ns)
                    sid = make_id(name)
                    socket = Socket(nsp, client, sid)
                    nsp.sockets[sid] = socket
                    joined = tuple(rooms)
                    adapter = nsp.adapter
                    if plain:  # RoomRegistry.add_all, twice, without the calls
                        members = adapter.rooms
                        mine = adapter.sids[sid] = {sid: None}
                        members[sid] = {sid: None}
                        for room in joined:
                            mine[room] = None
                            those = members.get(room)
                            if those is None:
                                members[room] = {sid: None}
                            else:
                                those[sid] = None
                        client._opened(socket)
                    else:
                        adapter.add_all(sid, (sid,))
                        client._opened(socket)
                        if joined:
                            adapter.add_all(sid, joined)
                    if loop is not None and joined:  # the joins, after the connection
                        if pending is None:
                            loop.charge(loop.profile.join_ms * len(joined), "join")
                        else:
                            pending[0].append(loop.profile.join_ms * len(joined))
                            pending[1].append("join")
                    done.append((name, node, sid, ns, joined))
                    i += 1
        finally:
            for each, (costs, kinds) in charges.items():
                each.charge_all(costs, kinds)
            self.trace.add_connections(now, done)
            settle(i - start)  # they live as long as the run: no collection looks at them again
        return i

    def _bulk_namespace(self, node: str, namespace: str) -> Namespace | None:
        """Namespace ``namespace`` of ``node`` if a new client can connect to it in
        bulk (the node is up; no ``connection`` handler or recovery)."""
        server = self.nodes.get(node)
        if server is None or not server.alive:
            return None
        nsp = server.of(normalize_namespace(namespace))
        if nsp.adapter.sessions is not None or nsp._handlers.get("connection"):
            return None
        return nsp

    def pick_node(self, client: Client | None = None) -> str | None:
        """The load balancer: the client's last node if sticky and up, else the next
        node that is up, in turn; None when every node is down."""
        last = client.node if client is not None else None
        if self.sticky and last is not None and self.nodes[last].alive:
            return last
        for _ in range(len(self.nodes)):
            node = next(self._next_node)
            if self.nodes[node].alive:
                return node
        return None

    # -- failures -------------------------------------------------------------------
    def crash(self, node: str) -> None:
        """Node ``node`` dies: its sockets close (``transport close``), its broker
        subscriptions end, and what is on its way to it is lost.  What it had
        already written to its clients still reaches them; they see the close
        one trip later."""
        server = self.io(node)
        if not server.alive:
            raise RuntimeError(f"node {node!r} is already down")
        server.ctx.up = False
        self.trace.record(self.env.now, CRASH, node=node)
        if self.broker is not None:
            self.broker.drop_node(node)
        for nsp in server.nsps.values():
            for socket in list(nsp.sockets.values()):
                socket.end("transport close", node_lost=True)

    def restart(self, node: str) -> None:
        """Node ``node`` comes back, empty, running the same application."""
        if self.io(node).alive:
            raise RuntimeError(f"node {node!r} is up")
        self._restarts[node] = self._restarts.get(node, 0) + 1  # a new process, a new id
        server = self.nodes[node] = Server(self._context(node))
        for namespace in self.namespaces:
            server.of(namespace)
        for namespace, event, handler in self._app:
            server.of(namespace).on(event, handler)
        self.trace.record(self.env.now, RESTART, node=node)

    def broker_down(self) -> None:
        """The broker stops.  What is in flight to it is lost; what the nodes
        publish meanwhile waits in their offline queues and is sent when they
        reconnect (the classic adapter delivers locally at once, the sharded
        one when its publish returns)."""
        self._broker("broker down").go_down()
        self.trace.record(self.env.now, BROKER, state="down")

    def broker_up(self) -> None:
        """The broker is back; the nodes reconnect (in the order the ``broker``
        record's ``reconnect_order`` gives), subscribe again and send what
        they queued."""
        broker = self._broker("broker up")
        broker.come_up()
        self.trace.record(
            self.env.now, BROKER, state="up", reconnect_order=list(broker.reconnect_order)
        )

    def partition(self, node: str, direction: str = "both", lose: bool = False) -> None:
        """Cut ``node`` from the broker: ``both``, ``to-broker`` or ``from-broker``.

        A partition healed within TCP's patience loses nothing: what crosses
        it is held and arrives after :meth:`heal`.  ``lose=True`` is a
        partition long enough for the connections to give up: what crosses
        it is lost (reason ``partition``).
        """
        self.io(node)
        self._broker("partition").partition(node, direction, lose)
        extra = {"lose": True} if lose else {}
        self.trace.record(self.env.now, PARTITION, node=node, direction=direction, **extra)

    def heal(self, node: str) -> None:
        """``node`` reaches the broker again."""
        self.io(node)
        self._broker("heal").heal(node)
        self.trace.record(self.env.now, HEAL, node=node)

    def set_node_latency(self, node: str, *, client_ms: Any = None, adapter_ms: Any = None) -> None:
        """Give one node its own latencies: its clients' links, its link to the broker."""
        self.io(node)
        if client_ms is not None:
            self.links.configure(node=node, latency=client_ms)
        if adapter_ms is not None and self.broker is not None:
            self.broker.set_hop(node, halved(delay(adapter_ms)))

    def _broker(self, what: str) -> Broker:
        if self.broker is None:
            raise RuntimeError(f"{what}: the {self.adapter!r} adapter has no broker")
        return self.broker

    def client(self, name: str) -> Client:
        """The client called ``name``."""
        return self.clients[name]

    # -- running --------------------------------------------------------------------
    def process(
        self,
        fn: Callable[[simpy.Environment], Generator[Any, Any, Any]] | Generator[Any, Any, Any],
    ) -> simpy.Process:
        """Start a process: a generator, or a function of ``env`` returning one."""
        gen = fn(self.env) if callable(fn) else fn
        return self.env.process(gen)

    def run(self, until: float | None = None) -> None:
        """Run the simulation until ``until`` ms, or until nothing is left to do.

        A run that ends because nothing is left to do has lost what is still
        held behind a partition or queued for a broker that is down: those
        messages get their drop records at the end.
        """
        self.env.run(until=until)
        if until is None and self.broker is not None:
            self.broker.strand()

    @property
    def now(self) -> float:
        """The simulated time, in ms."""
        return self.env.now


def _plain_rooms(adapter: Any) -> bool:
    """Whether ``adapter`` keeps rooms as the in-memory one does, and nobody listens
    to its room events: a join is then two dictionary entries."""
    return (
        type(adapter).add_all is InMemoryAdapter.add_all
        and isinstance(adapter.registry, RoomRegistry)
        and not adapter.registry._listeners
    )
