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
    ValidationInfo,
    field_validator,
    model_validator,
)

from roomsim.scenario.errors import Expect, invalid, unknown_key
from roomsim.scenario.values import (
    A_NAME,
    A_NAMESPACE,
    DISCONNECT_REASONS,
    Flag,
    JsonData,
    Ms,
    Name,
    Names,
    Namespace,
    NodeNames,
    SomeNames,
    Targets,
)

__all__ = [
    "ACTIONS",
    "FILE_KEYS",
    "ClientSpec",
    "ClusterSpec",
    "ConnectStep",
    "DisconnectStep",
    "EmitStep",
    "JoinStep",
    "LatencySpec",
    "LeaveStep",
    "Part",
    "Step",
]

ACTIONS = ("join", "leave", "emit", "disconnect", "connect")
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


class ClusterSpec(Part):
    """The server nodes, and the adapter that joins them."""

    nodes: NodeNames
    adapter: Annotated[Literal["memory", "redis"], Expect("'memory' or 'redis'")] = "memory"

    @model_validator(mode="after")
    def _adapter_fits_nodes(self) -> "ClusterSpec":
        if "adapter" not in self.model_fields_set:
            self.adapter = "memory" if len(self.nodes) == 1 else "redis"
        elif self.adapter == "memory" and len(self.nodes) > 1:
            reason = "expected one node with adapter 'memory'"
            raise invalid(f"{reason} (use 'redis' to join several nodes)", ("adapter",))
        return self


class LatencySpec(Part):
    """Constant one-way latencies in ms."""

    client_ms: Ms = 0.0
    adapter_ms: Ms = 0.0


class ClientSpec(Part):
    """A client; its socket connects to ``node`` at ``connect_at``."""

    name: Name
    node: Name
    rooms: Names = Field(default_factory=list)
    connect_at: Ms = 0.0
    namespace: Namespace = "/"


class JoinStep(Part):
    """``socket.join(rooms)``."""

    client: Name
    rooms: SomeNames


class LeaveStep(Part):
    """``socket.leave(room)`` for each room."""

    client: Name
    rooms: SomeNames


class EmitStep(_PythonKeysPart):
    """An emit from a node (``io.to(...)``) or from a client's socket.

    ``id`` is ``"m<k>"`` (the smallest k no other emit uses) when the file
    gives none; ``sender_is_client`` is set when the scenario is validated.
    """

    _not_file_keys: ClassVar[frozenset[str]] = frozenset({"from_", "except_"})
    id: Name = ""
    from_: Name = Field(alias="from")
    to: Targets = None
    except_: Names = Field(default_factory=list, alias="except")
    event: Annotated[str, Field(min_length=1), Expect("an event name (a non-empty string)")] = (
        "message"
    )
    data: JsonData = None
    broadcast: Flag = False
    local: Flag = False
    namespace: Annotated[Namespace | None, Expect(A_NAMESPACE)] = None
    _sender_is_client: bool = PrivateAttr(default=False)

    @property
    def sender_is_client(self) -> bool:
        """True when ``from`` names a client, False when it names a node."""
        return self._sender_is_client


class DisconnectStep(Part):
    """The client's socket goes away, for ``reason``."""

    client: Name
    reason: Annotated[
        Literal[DISCONNECT_REASONS],
        Expect(f"a disconnect reason ({', '.join(map(repr, DISCONNECT_REASONS))})"),
    ] = DISCONNECT_REASONS[0]


class ConnectStep(Part):
    """The client connects again, as a new socket (to ``node`` if given)."""

    client: Name
    node: Annotated[Name | None, Expect(A_NAME)] = None
    rooms: Names = Field(default_factory=list)


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
    def body(self) -> JoinStep | LeaveStep | EmitStep | DisconnectStep | ConnectStep:
        """The step's action."""
        return getattr(self, self.action)
