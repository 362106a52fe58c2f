"""The parts of a scenario: the cluster, latencies, clients and timeline steps.

Every part refuses keys it does not know.  The whole scenario, and the
checks across its parts, are in :mod:`roomsim.scenario.document`.
"""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from roomsim.scenario.errors import Expect, invalid, show, unknown_key
from roomsim.scenario.values import (
    A_NAME,
    A_NAMESPACE,
    DISCONNECT_REASONS,
    Flag,
    JsonData,
    Latency,
    Ms,
    Name,
    Names,
    Namespace,
    NodeNames,
    Probability,
    SomeNames,
    Targets,
)

__all__ = [
    "ACTIONS",
    "ADAPTERS",
    "FILE_KEYS",
    "SUBSCRIPTION_MODES",
    "AnyClient",
    "BrokerSpec",
    "ClientSpec",
    "ClusterSpec",
    "ConnectStep",
    "CostsSpec",
    "DisconnectSocketsStep",
    "DisconnectStep",
    "EmitStep",
    "FetchSocketsStep",
    "GroupClient",
    "JoinStep",
    "LatencySpec",
    "LeaveStep",
    "LoadSpec",
    "NodeLatency",
    "NodeStep",
    "Part",
    "PartitionStep",
    "ServerSideEmitStep",
    "SocketsJoinStep",
    "SocketsLeaveStep",
    "Step",
]

ACTIONS = (
    "join",
    "leave",
    "emit",
    "disconnect",
    "connect",
    "sockets_join",
    "sockets_leave",
    "disconnect_sockets",
    "fetch_sockets",
    "server_side_emit",
    "crash",
    "restart",
    "broker",
    "partition",
    "heal",
)
ADAPTERS = ("memory", "redis", "sharded-redis")
SUBSCRIPTION_MODES = ("dynamic", "static", "dynamic-private")
FILE_KEYS = "roomsim.file_keys"  # validation context: the input uses file keys


class Part(BaseModel):
    """A part of a scenario: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)
    _not_file_keys: ClassVar[frozenset[str]] = frozenset()


class _PythonKeysPart(Part):
    """A part with Python-only keys (``from_``, ``index``), refused in files."""

    @model_validator(mode="before")
    @classmethod
    def _only_file_keys(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get(FILE_KEYS):
            for key in cls._not_file_keys.intersection(data):
                raise invalid(unknown_key(key, cls), (key,))
        return data


class BrokerSpec(Part):
    """The simulated Redis's own time per published message and per copy it hands out."""

    publish_ms: Ms = 0.0
    copy_ms: Ms = 0.0


class ClusterSpec(Part):
    """The server nodes, the adapter that joins them, and its options."""

    nodes: NodeNames
    adapter: Annotated[
        Literal[ADAPTERS],  # type: ignore[valid-type]  # pydantic reads a tuple's names
        Expect("'memory', 'redis' or 'sharded-redis'"),
    ] = "memory"
    subscription_mode: Annotated[
        Literal[SUBSCRIPTION_MODES],  # type: ignore[valid-type]
        Expect("'dynamic', 'static' or 'dynamic-private'"),
    ] = "dynamic"
    requests_timeout_ms: Ms = 5000.0
    broker: BrokerSpec = Field(default_factory=BrokerSpec)
    sticky: Flag = False

    @model_validator(mode="after")
    def _adapter_fits_nodes(self) -> "ClusterSpec":
        if "adapter" not in self.model_fields_set:
            self.adapter = "memory" if len(self.nodes) == 1 else "redis"
        elif self.adapter == "memory" and len(self.nodes) > 1:
            reason = "expected one node with adapter 'memory'"
            raise invalid(f"{reason} (use 'redis' to join several nodes)", ("adapter",))
        if self.subscription_mode != "dynamic" and self.adapter != "sharded-redis":
            reason = "subscription_mode is an option of adapter 'sharded-redis'"
            raise invalid(f"{reason}, not {self.adapter!r}", ("subscription_mode",))
        return self


class NodeLatency(Part):
    """One node's own latencies: its clients' links, and its link to the broker."""

    client_ms: Latency = None
    adapter_ms: Latency = None


class LatencySpec(Part):
    """One-way latencies in ms: a number, or a distribution (``{uniform: [1, 9]}``)."""

    client_ms: Latency = 0.0
    adapter_ms: Latency = 0.0
    nodes: Annotated[dict[Name, NodeLatency], Expect("a mapping of node names")] = Field(
        default_factory=dict
    )


class ClientSpec(Part):
    """A client; its socket connects to ``node`` at ``connect_at``."""

    name: Name
    node: Name
    rooms: Names = Field(default_factory=list)
    connect_at: Ms = 0.0
    namespace: Namespace = "/"
    ack: Flag = True
    latency_ms: Latency = None
    loss: Probability = 0.0
    transport_ms: Ms = 0.0
    reconnect: Flag = True
    reconnection_delay: Ms = 1000.0
    reconnection_delay_max: Ms = 5000.0
    randomization_factor: Probability = 0.5

    @model_validator(mode="after")
    def _retries_take_time(self) -> "ClientSpec":
        # socket.io-client waits whole ms: below 1 ms a delay is 0, and the client
        # would retry without end at one simulated instant
        for key in ("reconnection_delay", "reconnection_delay_max"):
            if self.reconnect and getattr(self, key) < 1:
                reason = "expected a time of at least 1 ms when reconnect is on"
                reason += " (with less the client retries without end at one instant)"
                raise invalid(f"{reason}, got {show(getattr(self, key))}", (key,))
        return self


#: the field values of each group's clients, by value: one class for each
_GROUP_CLASSES: dict[tuple[tuple[str, Any], ...], type["GroupClient"]] = {}


class GroupClient:
    """A client of a group: its own name, node and rooms, and every other field
    of :class:`ClientSpec` the group's, shared by all its clients (a class
    attribute of the group's own subclass, never copied per client).

    It reads as a :class:`ClientSpec` does, field by field; :meth:`spec`
    makes the full model.  Make them with :meth:`of`.

    Examples
    --------
    >>> make = GroupClient.of(ClientSpec(name="t", node="n1", connect_at=5.0))
    >>> alice = make("alice", "n2", ["lobby"])
    >>> alice.name, alice.node, alice.rooms, alice.connect_at, alice.reconnect
    ('alice', 'n2', ['lobby'], 5.0, True)
    >>> alice.spec() == ClientSpec(name="alice", node="n2", rooms=["lobby"], connect_at=5.0)
    True
    """

    __slots__ = ("name", "node", "rooms")

    name: str
    node: str
    rooms: list[str]
    connect_at: float
    namespace: str
    ack: bool
    latency_ms: Any
    loss: float
    transport_ms: float
    reconnect: bool
    reconnection_delay: float
    reconnection_delay_max: float
    randomization_factor: float
    #: the group's values of the fields other than name, node and rooms
    shared: ClassVar[dict[str, Any]] = {}

    def __init__(self, name: str, node: str, rooms: list[str]) -> None:
        self.name, self.node, self.rooms = name, node, rooms

    @staticmethod
    def of(template: ClientSpec) -> type["GroupClient"]:
        """The class of the clients that share ``template``'s other fields."""
        shared = {
            key: value
            for key, value in template.__dict__.items()
            if key not in GroupClient.__slots__
        }
        key = tuple((k, repr(v)) for k, v in shared.items())
        made = _GROUP_CLASSES.get(key)
        if made is None:
            made = _GROUP_CLASSES[key] = type(
                "GroupClient", (GroupClient,), {"__slots__": (), "shared": shared, **shared}
            )
        return made

    def spec(self) -> ClientSpec:
        """This client as a :class:`ClientSpec`."""
        return ClientSpec.model_construct(
            name=self.name, node=self.node, rooms=self.rooms, **self.shared
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_group_client, (self.shared, self.name, self.node, self.rooms))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GroupClient | ClientSpec):
            mine = {"name": self.name, "node": self.node, "rooms": self.rooms, **self.shared}
            theirs = other.spec() if isinstance(other, GroupClient) else other
            return mine == dict(theirs.__dict__)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GroupClient(name={self.name!r}, node={self.node!r}, rooms={self.rooms!r})"


def _group_client(shared: dict[str, Any], name: str, node: str, rooms: list[str]) -> GroupClient:
    """A :class:`GroupClient` again (unpickling)."""
    return GroupClient.of(ClientSpec.model_construct(name="", node="", **shared))(name, node, rooms)


#: a client of a scenario: declared one by one, or one of a group's
AnyClient = ClientSpec | GroupClient


class JoinStep(Part):
    """``socket.join(rooms)``."""

    client: Name
    rooms: SomeNames


class LeaveStep(Part):
    """``socket.leave(room)`` for each room."""

    client: Name
    rooms: SomeNames


class _Targeted(_PythonKeysPart):
    """A step that picks sockets as a broadcast does: ``from``, ``to``, ``except``, ``local``.

    ``from`` names a node (``io.to(...)``) or a client (``socket.to(...)``,
    which always leaves the sender out); ``sender_is_client`` is set when the
    scenario is validated.
    """

    _not_file_keys: ClassVar[frozenset[str]] = frozenset({"from_", "except_"})
    from_: Name = Field(alias="from")
    to: Targets = None
    except_: Names = Field(default_factory=list, alias="except")
    local: Flag = False
    namespace: Annotated[Namespace | None, Expect(A_NAMESPACE)] = None
    _sender_is_client: bool = PrivateAttr(default=False)

    @property
    def sender_is_client(self) -> bool:
        """True when ``from`` names a client, False when it names a node."""
        return self._sender_is_client


class EmitStep(_Targeted):
    """An emit from a node (``io.to(...)``) or from a client's socket.

    ``id`` is ``"m<k>"`` (the smallest k no other emit uses) when the file
    gives none.  With ``ack``, every recipient is asked to acknowledge, and
    the answers are gathered for ``timeout`` ms.
    """

    id: Name = ""
    event: Annotated[str, Field(min_length=1), Expect("an event name (a non-empty string)")] = (
        "message"
    )
    data: JsonData = None
    broadcast: Flag = False
    volatile: Flag = False
    ack: Flag = False
    timeout: Annotated[Ms | None, Expect("a time in ms (a number >= 0)")] = None


class SocketsJoinStep(_Targeted):
    """``io.in_(...).sockets_join(rooms)``: every matching socket joins."""

    rooms: SomeNames


class SocketsLeaveStep(_Targeted):
    """``io.in_(...).sockets_leave(rooms)``: every matching socket leaves."""

    rooms: SomeNames


class DisconnectSocketsStep(_Targeted):
    """``io.in_(...).disconnect_sockets(close)``."""

    close: Flag = False


class FetchSocketsStep(_Targeted):
    """``io.in_(...).fetch_sockets()``: the answer is a ``fetch_result`` record."""

    timeout: Annotated[Ms | None, Expect("a time in ms (a number >= 0)")] = None


class ServerSideEmitStep(_PythonKeysPart):
    """``io.server_side_emit(event, data)`` from node ``from``, to the other nodes."""

    _not_file_keys: ClassVar[frozenset[str]] = frozenset({"from_"})
    from_: Name = Field(alias="from")
    event: Annotated[str, Field(min_length=1), Expect("an event name (a non-empty string)")]
    data: JsonData = None
    ack: Flag = False
    namespace: Annotated[Namespace | None, Expect(A_NAMESPACE)] = None


class DisconnectStep(Part):
    """The client's socket goes away, for ``reason``."""

    client: Name
    reason: Annotated[
        Literal[DISCONNECT_REASONS],  # type: ignore[valid-type]
        Expect(f"a disconnect reason ({', '.join(map(repr, DISCONNECT_REASONS))})"),
    ] = DISCONNECT_REASONS[0]


class ConnectStep(Part):
    """The client connects again, as a new socket (to ``node`` if given)."""

    client: Name
    node: Annotated[Name | None, Expect(A_NAME)] = None
    rooms: Names = Field(default_factory=list)


class NodeStep(Part):
    """A step about one node: ``crash``, ``restart``, ``heal``."""

    node: Name


class PartitionStep(Part):
    """Cut ``node`` from the broker, in one direction or both."""

    node: Name
    direction: Annotated[
        Literal["both", "to-broker", "from-broker"],
        Expect("'both', 'to-broker' or 'from-broker'"),
    ] = "both"
    #: the connections give up (a long partition): what crosses it is lost
    lose: bool = False


class Step(_PythonKeysPart):
    """One timeline step: exactly one action, at time ``at`` (ms)."""

    _not_file_keys: ClassVar[frozenset[str]] = frozenset({"index"})
    at: Ms
    index: int = 0
    join: JoinStep | None = None
    leave: LeaveStep | None = None
    emit: EmitStep | None = None
    disconnect: DisconnectStep | None = None
    connect: ConnectStep | None = None
    sockets_join: SocketsJoinStep | None = None
    sockets_leave: SocketsLeaveStep | None = None
    disconnect_sockets: DisconnectSocketsStep | None = None
    fetch_sockets: FetchSocketsStep | None = None
    server_side_emit: ServerSideEmitStep | None = None
    crash: NodeStep | None = None
    restart: NodeStep | None = None
    broker: Annotated[Literal["down", "up"] | None, Expect("'down' or 'up'")] = None
    partition: PartitionStep | None = None
    heal: NodeStep | None = None

    @field_validator(*ACTIONS, mode="before")
    @classmethod
    def _body_given(cls, value: Any) -> Any:
        if value is None:
            raise invalid("expected a mapping, got null")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> "Step":
        present = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(present) != 1:
            got = " and ".join(present) or "none"
            among = ", ".join(ACTIONS)
            raise invalid(f"expected exactly one action among {among}, got {got}")
        return self

    @property
    def action(self) -> str:
        """The name of the step's action: ``"join"``, ``"emit"``, ..."""
        return next(a for a in ACTIONS if getattr(self, a) is not None)

    @property
    def body(self) -> Any:
        """The step's action."""
        return getattr(self, self.action)


class CostsSpec(Part):
    """A cost profile written in the scenario (``costs: {...}``): every entry in ms,
    per item or per byte (see :data:`roomsim.profile.ENTRIES`); entries not given are 0
    (``flush_ms``: 0.1)."""

    packet_ms: Ms = 0.0
    packet_byte_ms: Ms = 0.0
    emit_ms: Ms = 0.0
    emit_byte_ms: Ms = 0.0
    write_ms: Ms = 0.0
    write_byte_ms: Ms = 0.0
    message_ms: Ms = 0.0
    message_byte_ms: Ms = 0.0
    connect_ms: Ms = 0.0
    join_ms: Ms = 0.0
    ack_ms: Ms = 0.0
    flush_ms: Ms = 0.1
    publish_ms: Ms = 0.0
    copy_ms: Ms = 0.0
    cores: Annotated[
        float,
        Strict(),
        Field(ge=0, le=10_000, allow_inf_nan=False),
        Expect("a number of cores (>= 0; 0: each node has a core of its own)"),
    ] = 0.0
    receive_ms: Ms = 0.0
    busy_factor: Annotated[
        float,
        Strict(),
        Field(gt=0, le=1, allow_inf_nan=False),
        Expect("a fraction (a number > 0, at most 1)"),
    ] = 1.0
    busy_after_ms: Ms = 50.0
    sched_ms: Ms = 0.0
    machine: Annotated[dict[str, Any], Expect("a mapping (where the profile was measured)")] = (
        Field(default_factory=dict)
    )


Rate = Annotated[
    float,
    Strict(),
    Field(gt=0, le=1_000_000, allow_inf_nan=False),
    Expect("a rate per second (a number > 0, at most 1,000,000)"),
]


class LoadSpec(Part):
    """A steady load: ``rate`` emits per second for ``duration`` ms from ``start``.

    Each emit comes from one of ``from`` (nodes, clients or a group's prefix for
    all its clients; default every node) and goes to ``room``, to a random room
    of group ``rooms_of``'s rooms, or, with neither, to everyone.  ``arrivals``
    are evenly spaced (``constant``) or a Poisson process (``poisson``), drawn
    from the stream ``load:<id>``.
    """

    id: Name = ""
    rate: Rate
    duration: Ms
    start: Ms = 0.0
    arrivals: Annotated[Literal["constant", "poisson"], Expect("'constant' or 'poisson'")] = (
        "constant"
    )
    from_: Names = Field(default_factory=list, alias="from")
    room: Annotated[Name | None, Expect(A_NAME)] = None
    rooms_of: Annotated[Name | None, Expect("a group's prefix")] = None
    event: Annotated[str, Field(min_length=1), Expect("an event name (a non-empty string)")] = (
        "message"
    )
    bytes: Annotated[int, Strict(), Field(ge=0, le=10_000_000), Expect("a whole number >= 0")] = 0

    @model_validator(mode="after")
    def _one_target(self) -> "LoadSpec":
        if self.room is not None and self.rooms_of is not None:
            raise invalid("expected room or rooms_of, not both", ("rooms_of",))
        if self.rate * self.duration / 1000 > 10_000_000:
            raise invalid("expected at most 10,000,000 emits (rate x duration)", ("rate",))
        return self
