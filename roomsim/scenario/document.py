"""The whole scenario: its top-level keys, and the checks across its parts.

Names are unique (nodes, clients, the clients of groups), references are
declared (the nodes of clients and groups, the clients and senders of
steps), and a room never has a client's name.  The checks also number the
steps and give emits their ids.
"""

import functools
from typing import Annotated, Any

from pydantic import Field, model_validator

from roomsim.scenario.bulk import gc_paused
from roomsim.scenario.errors import Expect, Loc, invalid, show, unknown_name
from roomsim.scenario.groups import ClientGroup, check_group_rooms, check_groups
from roomsim.scenario.models import (
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

__all__ = ["RecoverySpec", "Scenario"]


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
    #: the cost profile the nodes' event loops charge: ``default``, a profile file
    #: (relative to the scenario) or a mapping of entries; none: ideal nodes
    costs: Annotated[
        CostsSpec | str | None,
        Expect("'default', a profile file's name or a mapping of cost entries"),
    ] = None
    load: Annotated[list[LoadSpec], Expect("a list of loads")] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        _check_references(self)
        return self

    @property
    def client_count(self) -> int:
        """How many clients there are, declared or of a group (without making them)."""
        return len(self.clients) + sum(group.count for group in self.groups)

    def all_clients(self) -> tuple[ClientSpec, ...]:
        """Every client, in connection order: ``clients``, then each group's.

        The groups are expanded on the first call only (the scenario's
        ``seed``, or 0, seeds a group that gives none); later calls return the
        same tuple, so change ``clients`` or ``groups`` before the first call.

        Returns
        -------
        tuple of ClientSpec

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
    def _all_clients(self) -> tuple[ClientSpec, ...]:
        seed = self.seed if self.seed is not None else 0
        clients = list(self.clients)
        with gc_paused():
            for group in self.groups:
                clients += group.expand(self.cluster.nodes, seed)
        return tuple(clients)


def _check_references(sc: Scenario) -> None:
    """Check names and references; number steps, fill emit ids and senders."""
    nodes: set[str] = set()
    for i, node in enumerate(sc.cluster.nodes):
        if node in nodes:
            raise invalid(f"duplicate node {show(node)}", ("cluster", "nodes", i))
        nodes.add(node)
    clients: dict[str, str] = {}  # the namespace of each client, by name
    for i, client in enumerate(sc.clients):
        if client.name in clients:
            raise invalid(f"duplicate client {show(client.name)}", ("clients", i, "name"))
        if client.name in nodes:
            reason = f"{show(client.name)} is a node's name; a client may not have the same name"
            raise invalid(reason, ("clients", i, "name"))
        if client.node not in nodes:
            raise invalid(unknown_name("node", client.node, nodes), ("clients", i, "node"))
        clients[client.name] = client.namespace
    check_groups(sc.groups, nodes, clients, sc.clients)
    for i, client in enumerate(sc.clients):
        _check_rooms(client.rooms, clients, ("clients", i, "rooms"))
    for node in sc.latency.nodes:
        if node not in nodes:
            raise invalid(unknown_name("node", node, nodes), ("latency", "nodes", node))
    check_group_rooms(sc.groups, clients)
    ids: set[str] = set()
    for i, step in enumerate(sc.timeline):
        step.index, body, where = i, step.body, ("timeline", i, step.action)
        if isinstance(body, EmitStep):
            _check_emit(body, where, nodes, clients, ids)
            continue
        if isinstance(body, (NodeStep, PartitionStep)):
            if body.node not in nodes:
                raise invalid(unknown_name("node", body.node, nodes), (*where, "node"))
            continue
        if isinstance(body, str):  # broker: down | up
            continue
        if isinstance(body, ServerSideEmitStep):
            if body.from_ not in nodes:
                raise invalid(unknown_name("node", body.from_, nodes), (*where, "from"))
            continue
        if isinstance(body, _Targeted):
            _check_sender(body, where, nodes, clients)
            if isinstance(body, (SocketsJoinStep, SocketsLeaveStep)):
                _check_rooms(body.rooms, clients, (*where, "rooms"))
            continue
        if body.client not in clients:
            raise invalid(unknown_name("client", body.client, clients), (*where, "client"))
        if isinstance(body, ConnectStep) and body.node is not None and body.node not in nodes:
            raise invalid(unknown_name("node", body.node, nodes), (*where, "node"))
        if isinstance(body, (JoinStep, LeaveStep, ConnectStep)):
            _check_rooms(body.rooms, clients, (*where, "rooms"))
    if sc.load:
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


def _check_rooms(rooms: list[str], clients: dict[str, Any], where: Loc) -> None:
    if clients.keys().isdisjoint(rooms):
        return
    for j, room in enumerate(rooms):
        if room in clients:
            reason = f"{show(room)} is a client's name; a room may not have the same name"
            raise invalid(reason, (*where, j))


def _check_emit(
    emit: EmitStep, where: Loc, nodes: set[str], clients: dict[str, str], ids: set[str]
) -> None:
    if emit.id in ids:
        raise invalid(f"duplicate message id {show(emit.id)}", (*where, "id"))
    if emit.id:
        ids.add(emit.id)
    _check_sender(emit, where, nodes, clients)


def _check_sender(emit: _Targeted, where: Loc, nodes: set[str], clients: dict[str, str]) -> None:
    namespace = clients.get(emit.from_)  # the sender's, when it is a client
    if namespace is None and emit.from_ not in nodes:
        reason = unknown_name("client or node", emit.from_, [*nodes, *clients])
        raise invalid(reason, (*where, "from"))
    emit._sender_is_client = namespace is not None
    if namespace is not None and emit.namespace not in (None, namespace):
        reason = f"expected the namespace of client {show(emit.from_)} ({show(namespace)})"
        raise invalid(f"{reason}, got {show(emit.namespace)}", (*where, "namespace"))
