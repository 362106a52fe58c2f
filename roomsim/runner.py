"""Playing a scenario: turn a validated :class:`~roomsim.scenario.Scenario` into a run.

Each step happens at its time, on the server side.  Things due at the same
time happen in this order: clients' connections (in the order of
``clients``), then timeline steps (in file order), and both before anything
the run itself scheduled for that instant (a message arriving, say).  A step
that cannot be done (its client is not connected, a reserved event name, a
``connect`` of a connected client) becomes an ``error`` record and the run
goes on.

Scenario files have no handler code, so the runner plays the application's
part: a client with ``ack: true`` (the default) answers every event that
asks for an acknowledgement with its own name, and each node answers a
``server_side_emit`` that asks for one with its node name (after a
``server_side_receive`` record).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from roomsim._gc import gc_paused, long_lived
from roomsim._sched import call_later
from roomsim.broadcast import BroadcastOperator
from roomsim.cluster import Cluster
from roomsim.packet import RESERVED_EVENTS
from roomsim.profile import CostProfile, load_profile
from roomsim.reconnect import Backoff
from roomsim.scenario import EmitStep, Scenario, Step
from roomsim.scenario.models import AnyClient, FetchSocketsStep, ServerSideEmitStep
from roomsim.socket import Socket
from roomsim.trace import Trace
from roomsim.vocabulary import ACK_RESULT, ERROR, FETCH_RESULT, SERVER_SIDE_RECEIVE

__all__ = ["build_cluster", "run_scenario"]

#: the most clients connected in one bulk batch (what the batch holds meanwhile is bounded)
BULK_CHUNK = 65_536
#: socket.io-client's reconnection delays (what :attr:`Client.backoff` starts with)
DEFAULT_DELAYS = (Backoff.min_ms, Backoff.max_ms, Backoff.jitter)


class StepError(Exception):
    """A step that cannot be done at run time (recorded, not raised to the user)."""


def scenario_costs(scenario: Scenario) -> CostProfile | None:
    """The cost profile of ``scenario`` (``costs:``), or None for ideal nodes."""
    costs = scenario.costs
    if costs is None:
        return None
    if isinstance(costs, str):
        return load_profile(costs)
    return CostProfile.from_mapping(costs.model_dump())


def build_cluster(
    scenario: Scenario, *, seed: int | None = None, trace: Trace | None = None
) -> Cluster:
    """The cluster a scenario describes, with its steps scheduled but not run."""
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else 0
    cluster = Cluster(
        nodes=scenario.cluster.nodes,
        adapter=scenario.cluster.adapter,
        seed=seed,
        client_ms=scenario.latency.client_ms,
        adapter_ms=scenario.latency.adapter_ms,
        subscription_mode=scenario.cluster.subscription_mode,
        publish_ms=scenario.cluster.broker.publish_ms,
        copy_ms=scenario.cluster.broker.copy_ms,
        requests_timeout_ms=scenario.cluster.requests_timeout_ms,
        sticky=scenario.cluster.sticky,
        connection_state_recovery=(
            scenario.connection_state_recovery.max_disconnection_duration
            if scenario.connection_state_recovery is not None
            else None
        ),
        trace=trace,
        costs=scenario_costs(scenario),
    )
    for node, own in scenario.latency.nodes.items():
        cluster.set_node_latency(node, client_ms=own.client_ms, adapter_ms=own.adapter_ms)
    cluster.reserve_msg_ids(s.emit.id for s in scenario.timeline if s.emit is not None)
    player = _Player(cluster, scenario)
    agenda: list[tuple[float, Callable[[], None]]] = []
    # clients next to each other that connect at the same time (a group's) are
    # one action: they connect in bulk, in the same order as one by one
    specs, first = scenario.all_clients(), 0
    for at, run in itertools.groupby(specs, key=lambda spec: spec.connect_at):
        count = sum(1 for _ in run)
        part = specs[first : first + count]  # the whole tuple itself when it is all of it
        agenda.append((at, functools.partial(player.connect_all, first, part)))
        first += count
    for step in scenario.timeline:
        agenda.append((step.at, lambda step=step: player.play(step)))  # type: ignore[misc]
    agenda.sort(key=lambda item: item[0])  # stable: ties keep clients, then file order
    for at, group in itertools.groupby(agenda, key=lambda item: item[0]):
        call_later(cluster.env, at, _run_all, [fn for _, fn in group])
    last = agenda[-1][0] if agenda else 0.0
    call_later(cluster.env, last, setattr, cluster, "settled", True)
    return cluster


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    trace: Trace | None = None,
    progress: bool | None = False,
) -> Cluster:
    """Play ``scenario`` to its end (or its ``until``) and return the cluster.

    ``seed`` overrides the scenario's own.  The records are in
    ``cluster.trace`` (or in ``trace`` if given).  ``progress=True`` shows a
    progress bar over simulated time (in a terminal or a notebook), ``None``
    only when standard error is a terminal; it changes nothing in the run.
    """
    with long_lived():  # what connects in bulk stays out of the collector's sight till the end
        cluster = build_cluster(scenario, seed=seed, trace=trace)
        if progress is False:
            cluster.run(until=scenario.until)
            return cluster
        last_step = max(
            [c.connect_at for c in scenario.all_clients()]
            + [s.at for s in scenario.timeline]
            + [0.0]
        )
        _run_with_progress(
            cluster, scenario.until if scenario.until is not None else last_step, progress
        )
        if scenario.until is None:
            cluster.run()
    return cluster


def _run_with_progress(
    cluster: Cluster, horizon: float, show: bool | None, chunks: int = 200
) -> None:
    """Run up to ``horizon`` ms in slices, advancing a progress bar."""
    from tqdm.auto import tqdm

    env = cluster.env
    with tqdm(
        total=horizon,
        unit="ms",
        unit_scale=True,
        desc="simulating",
        leave=False,
        disable=None if show is None else not show,
    ) as bar:
        for i in range(1, chunks + 1):
            target = horizon * i / chunks
            if target > env.now:
                env.run(until=target)
                bar.update(target - bar.n)


def _run_all(actions: list[Callable[[], None]]) -> None:
    for action in actions:
        action()


class _Player:
    """Does the steps of one scenario on one cluster."""

    def __init__(self, cluster: Cluster, scenario: Scenario) -> None:
        self.cluster = cluster
        self.specs = {c.name: c for c in scenario.all_clients()}
        self.ack_events = sorted(
            {s.emit.event for s in scenario.timeline if s.emit is not None and s.emit.ack}
        )
        self._answering: set[str] = set()
        self._set_up: set[str] = set()
        side_events = {
            (s.server_side_emit.namespace or "/", s.server_side_emit.event)
            for s in scenario.timeline
            if s.server_side_emit is not None
        }
        for namespace, event in sorted(side_events):
            for nsp in cluster.of(namespace):
                nsp.on(event, self._side_handler(nsp.node, event))
        self.actions: dict[str, Callable[[Any], None]] = {
            "join": self._join,
            "leave": self._leave,
            "emit": self._emit,
            "disconnect": self._disconnect,
            "connect": self._connect_step,
            "sockets_join": self._sockets_join,
            "sockets_leave": self._sockets_leave,
            "disconnect_sockets": self._disconnect_sockets,
            "fetch_sockets": self._fetch_sockets,
            "server_side_emit": self._server_side_emit,
            "crash": lambda body: self._fault(self.cluster.crash, body.node),
            "restart": lambda body: self._fault(self.cluster.restart, body.node),
            "broker": lambda state: self._fault(
                self.cluster.broker_down if state == "down" else self.cluster.broker_up
            ),
            "partition": lambda body: self._fault(
                self.cluster.partition, body.node, body.direction, body.lose
            ),
            "heal": lambda body: self._fault(self.cluster.heal, body.node),
        }

    def _error(self, where: str, action: str, message: str, **extra: Any) -> None:
        self.cluster.trace.record(
            self.cluster.env.now,
            ERROR,
            step=where,
            action=action,
            message=message,
            **extra,
        )

    def first_connect(self, index: int, spec: AnyClient) -> None:
        try:
            self._connect(spec.name, spec.node, spec.rooms)
        except StepError as err:
            self._error(f"clients[{index}]", "connect", str(err))

    def connect_all(self, first: int, specs: Sequence[AnyClient]) -> None:
        """Connect these clients one after another (their first connection);
        ``specs[k]`` is the scenario's client number ``first + k``.

        New clients connect in bulk (:meth:`Cluster.connect_many`), at most
        :data:`BULK_CHUNK` at a time: the same sockets, ids and records as one
        by one, in a fraction of the time; a client the bulk path cannot take
        (one with link settings of its own, a node down, ...) connects on its
        own, in its turn.
        """
        with gc_paused():  # no collection between batches either: what they made stays
            self._connect_batches(first, specs)

    def _connect_batches(self, first: int, specs: Sequence[AnyClient]) -> None:
        connect, cluster = self._connect, self.cluster
        for lo in range(0, len(specs), BULK_CHUNK):
            chunk = specs[lo : lo + BULK_CHUNK]
            entries = [
                (
                    spec.name,
                    spec.node,
                    spec.namespace,
                    spec.rooms,
                    spec.latency_ms is None and not spec.loss and not spec.transport_ms,
                )
                for spec in chunk
            ]
            i, n = 0, len(chunk)
            while i < n:
                stop = cluster.connect_many(entries, i)
                if stop > i:
                    self._set_up_all(chunk, i, stop)
                if stop < n:
                    spec = chunk[stop]
                    try:
                        connect(spec.name, spec.node, spec.rooms)
                    except StepError as err:
                        self._error(f"clients[{first + lo + stop}]", "connect", str(err))
                    stop += 1
                i = stop

    def _set_up_all(self, specs: Sequence[AnyClient], start: int, stop: int) -> None:
        """What :meth:`_connect` does after a client's first connection, for these."""
        known, set_up = self.cluster.clients, self._set_up
        answer = self.ack_events
        for k in range(start, stop):
            spec = specs[k]
            name = spec.name
            client = known[name]
            if name not in set_up:
                set_up.add(name)
                client.reconnection = spec.reconnect
                delays = (
                    spec.reconnection_delay,
                    spec.reconnection_delay_max,
                    spec.randomization_factor,
                )
                if delays != DEFAULT_DELAYS:  # else the client's own, made when first needed
                    backoff = client.backoff
                    backoff.min_ms, backoff.max_ms, backoff.jitter = delays
            if answer and spec.ack and name not in self._answering:
                self._answering.add(name)
                for event in answer:
                    client.on(event, _answer_with(name))

    def play(self, step: Step) -> None:
        action = step.action
        self.step = step
        try:
            self.actions[action](step.body)
        except StepError as err:
            extra = {"msg": step.emit.id} if step.emit is not None else {}
            self._error(f"timeline[{step.index}]", action, str(err), **extra)

    # -- helpers -------------------------------------------------------------
    def _socket(self, name: str) -> Socket:
        client = self.cluster.clients.get(name)
        socket = client.socket if client is not None else None
        if socket is None or not socket.connected:
            raise StepError(f"client {name!r} is not connected")
        return socket

    def _live(self, node: str) -> Any:
        server = self.cluster.io(node)
        if not server.alive:
            raise StepError(f"node {node!r} is down")
        return server

    def _room(self, name: str) -> str:
        """A client's name means its socket id (current, else last); else it is a room."""
        client = self.cluster.clients.get(name) if name in self.specs else None
        if client is not None and client.sid is not None:
            return client.sid
        return name

    def _connect(self, name: str, node: str, rooms: list[str]) -> None:
        spec = self.specs[name]
        client = self.cluster.clients.get(name)
        if client is not None and client.socket is not None and client.socket.connected:
            raise StepError(f"client {name!r} is already connected (to {client.node})")
        try:
            client = self.cluster.connect(name, node, namespace=spec.namespace, rooms=rooms)
        except RuntimeError as err:  # its node is down
            raise StepError(str(err)) from None
        if name not in self._set_up:
            self._set_up.add(name)
            _set_up_client(self.cluster, client, spec)
        if spec.ack and self.ack_events and name not in self._answering:
            self._answering.add(name)
            for event in self.ack_events:
                client.on(event, _answer_with(name))

    # -- the steps -----------------------------------------------------------
    def _join(self, body: Any) -> None:
        self._socket(body.client).join(body.rooms)

    def _leave(self, body: Any) -> None:
        socket = self._socket(body.client)
        for room in body.rooms:
            socket.leave(room)

    def _disconnect(self, body: Any) -> None:
        self._socket(body.client).close(body.reason)

    def _connect_step(self, body: Any) -> None:
        node = body.node if body.node is not None else self.specs[body.client].node
        self._connect(body.client, node, body.rooms)

    @staticmethod
    def _fault(action: Callable[..., None], *args: Any) -> None:
        try:
            action(*args)
        except RuntimeError as err:  # a node already down, no broker, ...
            raise StepError(str(err)) from None

    def _operator(self, body: Any) -> BroadcastOperator:
        """The broadcast operator a step's ``from``/``to``/``except``/``local`` make."""
        sender = body.from_
        if sender in self.specs:
            socket = self._socket(sender)
            op: BroadcastOperator = socket.broadcast
        else:
            op = BroadcastOperator(self._live(sender).of(body.namespace or "/"))
        if body.to is not None:
            op = op.to([self._room(r) for r in body.to])
        if body.except_:
            op = op.except_([self._room(r) for r in body.except_])
        if body.local:
            op = op.local
        return op

    def _emit(self, body: EmitStep) -> None:
        if body.event in RESERVED_EVENTS:
            raise StepError(f'"{body.event}" is a reserved event name')
        op = self._operator(body)
        if body.volatile:
            op = op.volatile
        args = () if body.data is None else (body.data,)
        if body.ack:
            if body.timeout is not None:
                op = op.timeout(body.timeout)
            op.emit(body.event, *args, ack=_ignore, msg_id=body.id)
        else:
            op.emit(body.event, *args, msg_id=body.id)

    def _sockets_join(self, body: Any) -> None:
        self._operator(body).sockets_join(body.rooms)

    def _sockets_leave(self, body: Any) -> None:
        self._operator(body).sockets_leave(body.rooms)

    def _disconnect_sockets(self, body: Any) -> None:
        self._operator(body).disconnect_sockets(body.close)

    def _fetch_sockets(self, body: FetchSocketsStep) -> None:
        op = self._operator(body)
        if body.timeout is not None:
            op = op.timeout(body.timeout)
        where, node = f"timeline[{self.step.index}]", self.cluster.io(op_node(body, self)).node
        names = self.cluster.links.names
        trace, env = self.cluster.trace, self.cluster.env

        def done(event: Any) -> None:
            if event.ok:
                found = [names[s.id] for s in event.value]
                trace.record(
                    env.now, FETCH_RESULT, step=where, node=node, sockets=found, error=None
                )
            else:
                trace.record(
                    env.now,
                    FETCH_RESULT,
                    step=where,
                    node=node,
                    sockets=[],
                    error=str(event.value),
                )

        event = op.fetch_sockets()
        if event.processed:
            done(event)
        else:
            event.callbacks.append(done)

    def _server_side_emit(self, body: ServerSideEmitStep) -> None:
        if body.event in ("connect", "connection", "new_namespace"):
            raise StepError(f'"{body.event}" is a reserved event name')
        nsp = self._live(body.from_).of(body.namespace or "/")
        args = () if body.data is None else (body.data,)
        ack = None
        if body.ack:
            where, trace, env = f"timeline[{self.step.index}]", self.cluster.trace, self.cluster.env

            def ack(error: BaseException | None, responses: list[Any]) -> None:
                trace.record(
                    env.now,
                    ACK_RESULT,
                    step=where,
                    node=nsp.node,
                    error=str(error) if error else None,
                    responses=responses,
                )

        nsp.server_side_emit(body.event, *args, ack=ack)

    def _side_handler(self, node: str, event: str) -> Callable[..., None]:
        trace, env = self.cluster.trace, self.cluster.env

        def on_server_side_emit(*args: Any) -> None:
            trace.record(env.now, SERVER_SIDE_RECEIVE, node=node, event=event)
            if args and callable(args[-1]):
                args[-1](node)

        return on_server_side_emit


def op_node(body: Any, player: _Player) -> str:
    """The node a targeted step runs on: ``from``, or the sending client's node."""
    if body.from_ in player.specs:
        return player.cluster.clients[body.from_].node  # type: ignore[return-value]
    return body.from_


def _set_up_client(cluster: Cluster, client: Any, spec: AnyClient) -> None:
    """A scenario client's link and reconnection options, set once."""
    if spec.latency_ms is not None or spec.loss or spec.transport_ms:
        cluster.links.configure(
            client=spec.name,
            latency=spec.latency_ms,
            loss=spec.loss,
            transport_ms=spec.transport_ms,
        )
    client.reconnection = spec.reconnect
    client.backoff.min_ms = spec.reconnection_delay
    client.backoff.max_ms = spec.reconnection_delay_max
    client.backoff.jitter = spec.randomization_factor


def _answer_with(name: str) -> Callable[..., None]:
    """A client handler that acknowledges with the client's name when asked."""

    def answer(*args: Any) -> None:
        if args and callable(args[-1]):
            args[-1](name)

    return answer


def _ignore(*_args: Any) -> None:
    """The runner's callback for acknowledgements (their result is recorded anyway)."""
