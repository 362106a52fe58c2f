"""The whole scenario: its top-level keys, and the checks across its parts.

Names are unique (nodes, clients, the clients of groups), references are
declared (the nodes of clients and groups, the clients and senders of
steps), and a room never has a client's name.  The checks also number the
steps and give emits their ids.  Given a :class:`~roomsim.scenario.errors.Problems`
in the validation context (under :data:`PROBLEMS`), they note every problem
there instead of stopping at the first.
"""

import functools
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from roomsim._gc import gc_paused
from roomsim.scenario.errors import Expect, Loc, Problems, ScenarioWarning, show, unknown_name
from roomsim.scenario.groups import ClientGroup, check_group_rooms, check_groups
from roomsim.scenario.models import (
    AnyClient,
    ClientSpec,
    ClusterSpec,
    ConnectStep,
    CostsSpec,
    EmitStep,
    JoinStep,
    LatencySpec,
    LeaveStep,
    LoadSpec,
    NodeStep,
    Part,
    PartitionStep,
    ServerSideEmitStep,
    SocketsJoinStep,
    SocketsLeaveStep,
    Step,
    _Targeted,
)
from roomsim.scenario.values import Ms, Seed

__all__ = ["PROBLEMS", "RecoverySpec", "Scenario"]

#: validation context key: the Problems that collects the checks' problems
PROBLEMS = "roomsim.problems"


class RecoverySpec(Part):
    """Connection state recovery: how long a disconnected session is kept (ms)."""

    max_disconnection_duration: Ms = 120_000.0


class Scenario(Part):
    """A whole scenario, with names and references checked.

    ``clients`` are the clients the file declares one by one, ``groups``
    those it declares many at once; :meth:`all_clients` gives both.
    """

    name: Annotated[str | None, Expect("a text")] = None
    seed: Seed = None
    cluster: ClusterSpec
    latency: LatencySpec = Field(default_factory=LatencySpec)
    clients: Annotated[list[ClientSpec], Expect("a list of clients")] = Field(default_factory=list)
    groups: Annotated[list[ClientGroup], Expect("a list of groups")] = Field(default_factory=list)
    timeline: Annotated[list[Step], Expect("a list of steps")] = Field(default_factory=list)
    until: Annotated[Ms | None, Expect("a time in ms (a number >= 0)")] = None
    connection_state_recovery: RecoverySpec | None = None
    _warnings: list[ScenarioWarning] = PrivateAttr(default_factory=list)
    #: the cost profile the nodes' event loops charge: ``default``, a profile file
    #: (relative to the scenario) or a mapping of entries; none: ideal nodes
    costs: Annotated[
        CostsSpec | str | None,
        Expect("'default', a profile file's name or a mapping of cost entries"),
    ] = None
    load: Annotated[list[LoadSpec], Expect("a list of loads")] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> "Scenario":
        problems = (info.context or {}).get(PROBLEMS)
        _check_references(self, problems if problems is not None else Problems(collect=False))
        return self

    @property
    def warnings(self) -> tuple[ScenarioWarning, ...]:
        """What the file gives that is legal but most likely a slip, in line order.

        Set by the loaders (:func:`~roomsim.scenario.load_scenario`): an emit
        to a room nobody ever joins whose name is close to one that is joined.
        """
        return tuple(self._warnings)

    @property
    def client_count(self) -> int:
        """How many clients there are, declared or of a group (without making them)."""
        return len(self.clients) + sum(group.count for group in self.groups)

    def all_clients(self) -> tuple[AnyClient, ...]:
        """Every client, in connection order: ``clients``, then each group's.

        The groups are expanded on the first call only (the scenario's
        ``seed``, or 0, seeds a group that gives none); later calls return the
        same tuple, so change ``clients`` or ``groups`` before the first call.

        Returns
        -------
        tuple of ClientSpec or GroupClient
            A group's clients are :class:`~roomsim.scenario.models.GroupClient`
            objects, which read as a :class:`ClientSpec` does.

        Examples
        --------
        >>> sc = Scenario.model_validate({
        ...     "cluster": {"nodes": 2},
        ...     "clients": [{"name": "alice", "node": "n2"}],
        ...     "groups": [{"prefix": "user", "count": 3, "assign": "block"}],
        ... })
        >>> [(c.name, c.node) for c in sc.all_clients()]
        [('alice', 'n2'), ('user1', 'n1'), ('user2', 'n1'), ('user3', 'n2')]
        >>> sc.client_count
        4
        """
        return self._all_clients

    @functools.cached_property
    def _all_clients(self) -> tuple[AnyClient, ...]:
        seed = self.seed if self.seed is not None else 0
        clients: list[AnyClient] = list(self.clients)
        with gc_paused():
            for group in self.groups:
                clients += group.expand(self.cluster.nodes, seed)
        return tuple(clients)


def _check_references(sc: Scenario, report: Problems) -> None:
    """Check names and references; number steps, fill emit ids and senders."""
    nodes: set[str] = set()
    for i, node in enumerate(sc.cluster.nodes):
        if node in nodes:
            report.add(("cluster", "nodes", i), f"duplicate node {show(node)}")
        nodes.add(node)

    def unknown_node(node: str, where: Loc) -> None:
        report.add(where, lambda: unknown_name("node", node, nodes))

    clients: dict[str, str] = {}  # the namespace of each client, by name
    for i, client in enumerate(sc.clients):
        if client.name in clients:
            report.add(("clients", i, "name"), f"duplicate client {show(client.name)}")
            continue
        if client.name in nodes:
            reason = f"{show(client.name)} is a node's name; a client may not have the same name"
            report.add(("clients", i, "name"), reason)
        if client.node not in nodes:
            unknown_node(client.node, ("clients", i, "node"))
        clients[client.name] = client.namespace
    check_groups(sc.groups, nodes, clients, sc.clients, report)
    for i, client in enumerate(sc.clients):
        _check_rooms(client.rooms, clients, ("clients", i, "rooms"), report)
    for node in sc.latency.nodes:
        if node not in nodes:
            unknown_node(node, ("latency", "nodes", node))
    check_group_rooms(sc.groups, clients, report)

    def unknown_client(name: str, where: Loc) -> None:
        if not report.excused(name):
            report.add(where, lambda: unknown_name("client", name, clients))

    ids: set[str] = set()
    for i, step in enumerate(sc.timeline):
        step.index, body, where = i, step.body, ("timeline", i, step.action)
        if isinstance(body, EmitStep):
            _check_emit(body, where, nodes, clients, ids, report)
            continue
        if isinstance(body, (NodeStep, PartitionStep)):
            if body.node not in nodes:
                unknown_node(body.node, (*where, "node"))
            continue
        if isinstance(body, str):  # broker: down | up
            continue
        if isinstance(body, ServerSideEmitStep):
            if body.from_ not in nodes:
                unknown_node(body.from_, (*where, "from"))
            continue
        if isinstance(body, _Targeted):
            _check_sender(body, where, nodes, clients, report)
            if isinstance(body, (SocketsJoinStep, SocketsLeaveStep)):
                _check_rooms(body.rooms, clients, (*where, "rooms"), report)
            continue
        if body.client not in clients:
            unknown_client(body.client, (*where, "client"))
        if isinstance(body, ConnectStep) and body.node is not None and body.node not in nodes:
            unknown_node(body.node, (*where, "node"))
        if isinstance(body, (JoinStep, LeaveStep, ConnectStep)):
            _check_rooms(body.rooms, clients, (*where, "rooms"), report)
    if sc.load and not report.count:  # the loads' steps, once the rest is right
        from roomsim.scenario.load import expand_load

        for step in sc.timeline:
            if step.emit is not None and step.emit.id:
                ids.add(step.emit.id)
        steps = expand_load(sc, ids)
        for j, step in enumerate(steps, len(sc.timeline)):
            step.index = j
        sc.timeline.extend(steps)
    k = 1
    for step in sc.timeline:
        if step.emit is not None and not step.emit.id:
            while f"m{k}" in ids:
                k += 1
            step.emit.id = f"m{k}"
            ids.add(step.emit.id)


def _check_rooms(rooms: list[str], clients: dict[str, Any], where: Loc, report: Problems) -> None:
    if clients.keys().isdisjoint(rooms):
        return
    for j, room in enumerate(rooms):
        if room in clients:
            reason = f"{show(room)} is a client's name; a room may not have the same name"
            report.add((*where, j), reason)


def _check_emit(
    emit: EmitStep,
    where: Loc,
    nodes: set[str],
    clients: dict[str, str],
    ids: set[str],
    report: Problems,
) -> None:
    if emit.id in ids:
        report.add((*where, "id"), f"duplicate message id {show(emit.id)}")
    if emit.id:
        ids.add(emit.id)
    _check_sender(emit, where, nodes, clients, report)


def _check_sender(
    emit: _Targeted, where: Loc, nodes: set[str], clients: dict[str, str], report: Problems
) -> None:
    namespace = clients.get(emit.from_)  # the sender's, when it is a client
    if namespace is None and emit.from_ not in nodes and not report.excused(emit.from_):
        sender = emit.from_
        report.add(
            (*where, "from"), lambda: unknown_name("client or node", sender, [*nodes, *clients])
        )
    emit._sender_is_client = namespace is not None
    if namespace is not None and emit.namespace not in (None, namespace):
        reason = f"expected the namespace of client {show(emit.from_)} ({show(namespace)})"
        report.add((*where, "namespace"), f"{reason}, got {show(emit.namespace)}")
