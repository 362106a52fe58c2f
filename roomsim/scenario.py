"""Scenario files: what to simulate, validated before any simulation starts.

A scenario is a YAML file, or a strict JSON file when its name ends in
``.json`` (format version 1, ``scenario-format.md``). :func:`load_scenario`
and :func:`parse_scenario` turn it into a :class:`Scenario` of plain data, or
raise a :class:`ScenarioError` whose text is one line naming the file, the
line and the key::

    x.yaml:7: clients[1].nodee: unknown key 'nodee' (did you mean 'node'?)

Values are checked by pydantic (fast, even for 100,000 clients); its errors
are then put in plain words from the :class:`_Expect` marker of each field.
"""

import contextlib
import difflib
import functools
import gc
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "DISCONNECT_REASONS",
    "NAME_PATTERN",
    "RESERVED_EVENTS",
    "ClientSpec",
    "ClusterSpec",
    "ConnectStep",
    "DisconnectStep",
    "EmitStep",
    "JoinStep",
    "LatencySpec",
    "LeaveStep",
    "Scenario",
    "ScenarioError",
    "Step",
    "load_scenario",
    "parse_scenario",
    "scenario_from_dict",
]

NAME_PATTERN = r"^[A-Za-z0-9_\-:.]+$"
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
DISCONNECT_REASONS = (
    "client namespace disconnect",
    "server namespace disconnect",
    "server shutting down",
    "transport close",
    "transport error",
    "ping timeout",
    "parse error",
    "forced close",
    "forced server close",
)
ACTIONS = ("join", "leave", "emit", "disconnect", "connect")
MAX_NODES = 10_000

Loc = tuple[str | int, ...]  # where a value is: ("timeline", 2, "emit", "to", 0)
_FILE_KEYS = "roomsim.file_keys"  # validation context: the input uses file keys
_NAME = re.compile(NAME_PATTERN)
_LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_MAX_FLOW_DEPTH = 200  # libyaml overflows the C stack on very deep nesting
_YAML_TAG = "tag:yaml.org,2002:"
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioError(ValueError):
    """A scenario that cannot be used, explained in one line.

    ``str(err)`` is ``"<file>:<line>: <key path>: <reason>"``, without the
    line or the key path when none applies (``"x.yaml: file not found"``).

    Attributes
    ----------
    path : str
        The file name as given.
    line : int or None
        The 1-based line of the problem.
    key : str or None
        The dotted key path, such as ``timeline[2].emit.to[0]``.
    reason : str
        What was expected.
    """

    def __init__(
        self, path: str, reason: str, line: int | None = None, key: str | None = None
    ) -> None:
        self.path, self.reason, self.line, self.key = str(path), reason, line, key
        text = self.path + (f":{line}" if line is not None else "")
        text += (f": {key}" if key else "") + f": {reason}"
        super().__init__(_LINE_BREAK.sub(lambda m: repr(m.group())[1:-1], text))

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.path, self.reason, self.line, self.key)


# --- value types ---------------------------------------------------------------


class _Expect:
    """Annotation marker: what a value must be, in the words of error messages."""

    def __init__(self, what: str) -> None:
        self.what = what


def _show(value: Any) -> str:
    """Describe a value in a few plain words for an error message."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float, str)):
        try:
            text = repr(value)
        except ValueError:  # an integer with thousands of digits
            return "a very long number"
        return text if len(text) <= 40 else text[:36] + "..." + text[0]
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return getattr(value, "shown", f"a {type(value).__name__}")


def _invalid(reason: str, sub: Loc = ()) -> PydanticCustomError:
    """An error for a validator to raise; ``sub`` extends the location."""
    shown = f"{_dotted(sub)}: {reason}" if sub else reason
    ctx = {"shown": shown, "reason": reason, "sub": sub}
    return PydanticCustomError("roomsim", "{shown}", ctx)


def _listed(value: Any) -> Any:
    """A single name stands for a list of one name."""
    if isinstance(value, (list, tuple)) or value is None or isinstance(value, dict):
        return value
    return [value]


def _listed_given(value: Any) -> Any:
    """As :func:`_listed`, refusing null (``to:`` left empty)."""
    if value is None:
        raise ValueError("null")
    return _listed(value)


def _numbered_nodes(value: Any) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    if 1 <= value <= MAX_NODES:
        return [f"n{k}" for k in range(1, value + 1)]
    raise ValueError("number of nodes out of range")


def _namespace(value: Any) -> Any:
    if value == "":
        return "/"
    if isinstance(value, str) and value[:1] == "/" and _NAME.fullmatch(value[1:] or "_"):
        return value
    raise ValueError("not a namespace")


def _json_data(value: Any) -> Any:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict) and all(isinstance(k, str) for k in item):
            pending.extend(item.values())
        elif not (
            item is None
            or isinstance(item, (str, int))
            or (isinstance(item, float) and math.isfinite(item))
        ):
            what = "JSON data (null, true/false, numbers, text, lists, mappings)"
            raise _invalid(f"expected {what}, got {_show(item)}")
    return value


_A_NAME = "a name (letters, digits, _ - : .)"
_A_NAMESPACE = "a namespace ('/' or '/' followed by a name)"
_NAMES = "a name or a list of names"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN), _Expect(_A_NAME)]
Names = Annotated[list[Name], BeforeValidator(_listed), _Expect(_NAMES)]
SomeNames = Annotated[list[Name], BeforeValidator(_listed), Field(min_length=1), _Expect(_NAMES)]
Ms = Annotated[
    float,
    Strict(),
    Field(ge=0, allow_inf_nan=False),
    _Expect("a time in ms (a number >= 0)"),
]
Flag = Annotated[bool, Strict(), _Expect("true or false")]
Namespace = Annotated[
    str,
    BeforeValidator(_namespace),
    _Expect(_A_NAMESPACE),
]


# --- the models -------------------------------------------------------------------


class _Model(BaseModel):
    """A part of a scenario: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)
    _not_file_keys: ClassVar[frozenset[str]] = frozenset()


class _PythonKeysModel(_Model):
    """A part with Python-only keys (``from_``, ``index``), refused in files."""

    @model_validator(mode="before")
    @classmethod
    def _only_file_keys(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get(_FILE_KEYS):
            for key in cls._not_file_keys.intersection(data):
                raise _invalid(_unknown_key(key, cls), (key,))
        return data


class ClusterSpec(_Model):
    """The server nodes, and the adapter that joins them."""

    nodes: Annotated[
        list[Name],
        BeforeValidator(_numbered_nodes),
        Field(min_length=1),
        _Expect(f"a list of node names or a number of nodes from 1 to {MAX_NODES}"),
    ]
    adapter: Annotated[Literal["memory", "redis"], _Expect("'memory' or 'redis'")] = "memory"

    @model_validator(mode="after")
    def _adapter_fits_nodes(self) -> "ClusterSpec":
        if "adapter" not in self.model_fields_set:
            self.adapter = "memory" if len(self.nodes) == 1 else "redis"
        elif self.adapter == "memory" and len(self.nodes) > 1:
            reason = "expected one node with adapter 'memory'"
            raise _invalid(f"{reason} (use 'redis' to join several nodes)", ("adapter",))
        return self


class LatencySpec(_Model):
    """Constant one-way latencies in ms."""

    client_ms: Ms = 0.0
    adapter_ms: Ms = 0.0


class ClientSpec(_Model):
    """A client; its socket connects to ``node`` at ``connect_at``."""

    name: Name
    node: Name
    rooms: Names = Field(default_factory=list)
    connect_at: Ms = 0.0
    namespace: Namespace = "/"


class JoinStep(_Model):
    """``socket.join(rooms)``."""

    client: Name
    rooms: SomeNames


class LeaveStep(_Model):
    """``socket.leave(room)`` for each room."""

    client: Name
    rooms: SomeNames


class EmitStep(_PythonKeysModel):
    """An emit from a node (``io.to(...)``) or from a client's socket.

    ``id`` is ``"m<k>"`` (the smallest k no other emit uses) when the file
    gives none; ``sender_is_client`` is set when the scenario is validated.
    """

    _not_file_keys: ClassVar[frozenset[str]] = frozenset({"from_", "except_"})
    id: Name = ""
    from_: Name = Field(alias="from")
    to: Annotated[
        Annotated[list[Name], Field(min_length=1)] | None,
        BeforeValidator(_listed_given),
        _Expect("a name or a non-empty list of names"),
    ] = None
    except_: Names = Field(default_factory=list, alias="except")
    event: Annotated[str, Field(min_length=1), _Expect("an event name (a non-empty string)")] = (
        "message"
    )
    data: Annotated[Any, AfterValidator(_json_data)] = None
    broadcast: Flag = False
    local: Flag = False
    namespace: Annotated[Namespace | None, _Expect(_A_NAMESPACE)] = None
    _sender_is_client: bool = PrivateAttr(default=False)

    @property
    def sender_is_client(self) -> bool:
        """True when ``from`` names a client, False when it names a node."""
        return self._sender_is_client


class DisconnectStep(_Model):
    """The client's socket goes away, for ``reason``."""

    client: Name
    reason: Annotated[
        Literal[DISCONNECT_REASONS],
        _Expect(f"a disconnect reason ({', '.join(map(repr, DISCONNECT_REASONS))})"),
    ] = DISCONNECT_REASONS[0]


class ConnectStep(_Model):
    """The client connects again, as a new socket (to ``node`` if given)."""

    client: Name
    node: Annotated[Name | None, _Expect(_A_NAME)] = None
    rooms: Names = Field(default_factory=list)


class Step(_PythonKeysModel):
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
            raise _invalid("expected a mapping, got null")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> "Step":
        present = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(present) != 1:
            got = " and ".join(present) or "none"
            among = ", ".join(ACTIONS)
            raise _invalid(f"expected exactly one action among {among}, got {got}")
        return self

    @property
    def action(self) -> str:
        """The name of the step's action: ``"join"``, ``"emit"``, ..."""
        return next(a for a in ACTIONS if getattr(self, a) is not None)

    @property
    def body(self) -> JoinStep | LeaveStep | EmitStep | DisconnectStep | ConnectStep:
        """The step's action."""
        return getattr(self, self.action)


class Scenario(_Model):
    """A whole scenario, with names and references checked."""

    name: Annotated[str | None, _Expect("a text")] = None
    seed: Annotated[Annotated[int, Strict()] | None, _Expect("a whole number")] = None
    cluster: ClusterSpec
    latency: LatencySpec = Field(default_factory=LatencySpec)
    clients: Annotated[list[ClientSpec], _Expect("a list of clients")] = Field(default_factory=list)
    timeline: Annotated[list[Step], _Expect("a list of steps")] = Field(default_factory=list)
    until: Annotated[Ms | None, _Expect("a time in ms (a number >= 0)")] = None

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        _check_references(self)
        return self


def _check_references(sc: Scenario) -> None:
    """Check names and references; number steps, fill emit ids and senders."""
    nodes: set[str] = set()
    for i, node in enumerate(sc.cluster.nodes):
        if node in nodes:
            raise _invalid(f"duplicate node {node!r}", ("cluster", "nodes", i))
        nodes.add(node)
    clients: dict[str, ClientSpec] = {}
    for i, client in enumerate(sc.clients):
        if client.name in clients:
            raise _invalid(f"duplicate client {client.name!r}", ("clients", i, "name"))
        if client.name in nodes:
            reason = f"{client.name!r} is a node's name; a client may not have the same name"
            raise _invalid(reason, ("clients", i, "name"))
        if client.node not in nodes:
            raise _invalid(f"unknown node {client.node!r}", ("clients", i, "node"))
        clients[client.name] = client
    for i, client in enumerate(sc.clients):
        _check_rooms(client.rooms, clients, ("clients", i, "rooms"))
    ids: set[str] = set()
    for i, step in enumerate(sc.timeline):
        step.index, body, where = i, step.body, ("timeline", i, step.action)
        if isinstance(body, EmitStep):
            _check_emit(body, where, nodes, clients, ids)
            continue
        if body.client not in clients:
            raise _invalid(f"unknown client {body.client!r}", (*where, "client"))
        if isinstance(body, ConnectStep) and body.node is not None and body.node not in nodes:
            raise _invalid(f"unknown node {body.node!r}", (*where, "node"))
        if isinstance(body, (JoinStep, LeaveStep, ConnectStep)):
            _check_rooms(body.rooms, clients, (*where, "rooms"))
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
            reason = f"{room!r} is a client's name; a room may not have the same name"
            raise _invalid(reason, (*where, j))


def _check_emit(
    emit: EmitStep, where: Loc, nodes: set[str], clients: dict[str, Any], ids: set[str]
) -> None:
    if emit.id in ids:
        raise _invalid(f"duplicate message id {emit.id!r}", (*where, "id"))
    if emit.id:
        ids.add(emit.id)
    sender = clients.get(emit.from_)
    if sender is None and emit.from_ not in nodes:
        raise _invalid(f"unknown client or node {emit.from_!r}", (*where, "from"))
    emit._sender_is_client = sender is not None
    if sender is not None and emit.namespace not in (None, sender.namespace):
        reason = f"expected the namespace of client {sender.name!r} ({sender.namespace!r})"
        raise _invalid(f"{reason}, got {emit.namespace!r}", (*where, "namespace"))


# --- from pydantic's errors to one line ---------------------------------------------


def _dotted(loc: Loc) -> str:
    """``("timeline", 2, "emit", "to", 0)`` -> ``"timeline[2].emit.to[0]"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """A model's fields by the key a file uses for them."""
    return {f.alias or n: f for n, f in model.model_fields.items()}


def _model_in(hint: Any) -> type[BaseModel] | None:
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint
    return next(filter(None, map(_model_in, get_args(hint))), None)


def _list_item(hint: Any) -> Any:
    if get_origin(hint) is list:
        return get_args(hint)[0]
    return next(filter(None, map(_list_item, get_args(hint))), None)


def _hint_at(loc: Loc) -> tuple[Any, tuple[Any, ...]]:
    """The type found at ``loc`` from :class:`Scenario`, and its metadata."""
    hint: Any = Scenario
    metadata: tuple[Any, ...] = ()
    for part in loc:
        if isinstance(part, int):
            hint = _list_item(hint)
            metadata = getattr(hint, "__metadata__", ())
            hint = get_args(hint)[0] if metadata else hint
        else:
            model = _model_in(hint)
            field = _fields(model).get(part) if model else None
            if field is None:
                return None, ()
            hint, metadata = field.annotation, tuple(field.metadata)
    return hint, metadata


def _unknown_key(key: Any, model: type[BaseModel] | None) -> str:
    hidden = getattr(model, "_not_file_keys", frozenset())
    known = [k for k in _fields(model) if k not in hidden] if model else []
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r}" + (f" (known keys: {', '.join(known)})" * bool(known))


def _explain(error: Any) -> tuple[Loc, str]:
    """The location and the plain-words reason of one pydantic error."""
    loc, kind, got = tuple(error["loc"]), error["type"], error.get("input")
    if kind == "roomsim":
        return loc + tuple(error["ctx"]["sub"]), error["ctx"]["reason"]
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc[-1], _model_in(_hint_at(loc[:-1])[0]))
    if kind == "missing":
        return loc, f"missing key {loc[-1]!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {_show(got)}"
    for mark in _hint_at(loc)[1]:
        if isinstance(mark, _Expect):
            return loc, f"expected {mark.what}, got {_show(got)}"
    message = error["msg"].removeprefix("Value error, ")
    return loc, f"{message[:1].lower()}{message[1:]} (got {_show(got)})"


def _file_order(data: Any, loc: Loc) -> tuple[int, ...]:
    """A sort key putting locations in the order of the file."""
    order = []
    for part in loc:
        if isinstance(data, dict) and part in data:
            order.append(list(data).index(part))
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            order.append(part)
        else:
            return (*order, -1)
        data = data[part]
    return tuple(order)


def _validate(data: Any, path: str, line_of: Callable[[Loc], int | None]) -> Scenario:
    """Validate file data, or raise the problem met first in the file."""
    if not isinstance(data, dict):
        reason = f"expected a mapping at the top level, got {_show(data)}"
        raise ScenarioError(path, reason, line_of(()))
    try:
        return Scenario.model_validate(data, context={_FILE_KEYS: True})
    except ValidationError as exc:
        raise _first_problem(exc, data, path, line_of) from None
    except ValueError as exc:  # pydantic refusing a 5,000-digit number as a name
        raise ScenarioError(path, f"cannot read a value ({exc})") from None


def _first_problem(
    exc: ValidationError, data: Any, path: str, line_of: Callable[[Loc], int | None]
) -> ScenarioError:
    problems = [_explain(e) for e in exc.errors(include_url=False)]
    # an unknown key ('nod') explains a missing one ('node') of the same mapping
    unknown_in = {loc[:-1] for loc, why in problems if why.startswith("unknown key")}
    problems = [
        (loc, why)
        for loc, why in problems
        if not (why.startswith("missing key") and loc[:-1] in unknown_in)
    ]
    loc, reason = min(problems, key=lambda problem: _file_order(data, problem[0]))
    return ScenarioError(path, reason, line_of(loc), _dotted(loc) or None)


# --- reading YAML ---------------------------------------------------------------------


class _YamlReader:
    """Build plain data from YAML's node tree, remembering where each key is.

    ``lines`` maps a location (``("clients", 1, "node")``) to the 1-based line
    of the key (mapping entries) or of the item (list items).
    """

    def __init__(self, text: str, path: str) -> None:
        self.path, self.lines = path, {}
        deep = _flow_depth(text) > _MAX_FLOW_DEPTH
        self._loader = (yaml.SafeLoader if deep else _FastLoader)(text)
        self._open: set[int] = set()  # nodes being built, to catch self-reference

    def read(self) -> Any:
        try:
            root = self._loader.get_single_node()
            if root is None:
                reason = "expected a mapping at the top level, got an empty document"
                raise ScenarioError(self.path, reason)
            self.lines[()] = root.start_mark.line + 1
            return self._build(root, ())
        finally:
            self._loader.dispose()

    def _fail(self, node: yaml.Node, loc: Loc, reason: str) -> ScenarioError:
        line = node.start_mark.line + 1
        return ScenarioError(self.path, reason, line, _dotted(loc) or None)

    def _build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _YAML_TAG + "str":
                return node.value
            try:
                value = self._loader.construct_object(node)
            except (ValueError, TypeError, OverflowError) as exc:
                raise self._fail(node, loc, f"cannot read {_show(node.value)} ({exc})") from None
            if isinstance(value, int) and value.bit_length() > 10_000:
                raise self._fail(node, loc, "this number is too long")
            return value
        if id(node) in self._open:
            raise self._fail(node, loc, "an alias refers to a value that contains it")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode) and node.tag == _YAML_TAG + "seq":
                items = []
                for i, item in enumerate(node.value):
                    self.lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self._build(item, (*loc, i)))
                return items
            if isinstance(node, yaml.MappingNode) and node.tag == _YAML_TAG + "map":
                mapping = {}
                for key, (key_node, value_node) in self._entries(node, loc).items():
                    self.lines[(*loc, key)] = key_node.start_mark.line + 1
                    mapping[key] = self._build(value_node, (*loc, key))
                return mapping
            raise self._fail(node, loc, f"unsupported YAML tag {node.tag!r}")
        finally:
            self._open.discard(id(node))

    def _entries(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        """A mapping's (key node, value node) by key text, ``<<`` merges applied."""
        own: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _YAML_TAG + "merge":
                sources = value_node.value if value_node.id == "sequence" else [value_node]
                for source in sources:
                    if source.id != "mapping":
                        raise self._fail(source, loc, "expected a mapping to merge")
                    if id(source) in self._open:
                        raise self._fail(source, loc, "an alias refers to a value that contains it")
                    self._open.add(id(source))
                    for key, entry in self._entries(source, loc).items():
                        merged.setdefault(key, entry)
                    self._open.discard(id(source))
            elif not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, loc, "expected a plain key, got a list or a mapping")
            elif key_node.value in own:
                where = (*loc, key_node.value)
                raise self._fail(key_node, where, f"duplicate key {key_node.value!r}")
            else:
                own[key_node.value] = (key_node, value_node)
        return {**merged, **own}


def _flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest (counting those in strings: an upper bound)."""
    if text.count("[") + text.count("{") <= _MAX_FLOW_DEPTH:
        return 0
    depth = deepest = 0
    for char in re.sub(r"[^\[\]{}]+", "", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def _yaml_problem(exc: yaml.YAMLError, path: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or context or "cannot parse"
    reason = f"malformed YAML: {problem}"
    if mark is not None:
        reason += f" at column {mark.column + 1}"
    if context and context != problem and start is not None:
        reason += f" ({context} from line {start.line + 1})"
    return ScenarioError(path, " ".join(reason.split()), mark.line + 1 if mark else None)


def _read_yaml(text: str, path: str) -> tuple[Any, Callable[[Loc], int | None]]:
    bad = _NOT_YAML.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise ScenarioError(path, f"character {bad.group()!r} is not allowed in YAML", line)
    reader = _YamlReader(text, path)
    try:
        data = reader.read()
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, path) from None
    except RecursionError:
        raise ScenarioError(path, "malformed YAML: nested too deeply") from None

    def line_of(loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):  # the deepest recorded prefix
            if loc[:end] in reader.lines:
                return reader.lines[loc[:end]]
        return None

    return data, line_of


# --- reading JSON ------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


class _JsonConstant:
    """``NaN`` or ``Infinity`` in a JSON file: not JSON, refused by validation."""

    def __init__(self, shown: str) -> None:
        self.shown = shown


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return mapping


def _json_line(text: str, loc: Loc) -> int:
    """The line of ``loc`` (its key, or its list item) in a JSON text.

    Walks down to it, skipping the values before it with the C scanner, so it
    is fast even in a file of 100,000 clients; stops at the deepest prefix found.
    """
    decode = json.JSONDecoder().raw_decode

    def space(at: int) -> int:
        return _JSON_SPACE.match(text, at).end()  # type: ignore[union-attr]

    pos = mark = space(0)
    try:
        for part in loc:
            if isinstance(part, int) and text[pos] == "[":
                pos = space(pos + 1)
                for _ in range(part):  # skip a value and its comma
                    pos = space(space(decode(text, pos)[1]) + 1)
                mark = pos
            elif isinstance(part, str) and text[pos] == "{":
                pos = space(pos + 1)
                while text[pos] == '"':
                    key, end = json.decoder.scanstring(text, pos + 1)
                    value = space(space(end) + 1)  # past the colon
                    if key == part:
                        break
                    pos = space(space(decode(text, value)[1]) + 1)
                else:
                    break
                mark, pos = pos, value
            else:
                break
    except (ValueError, IndexError):
        pass
    return text.count("\n", 0, mark) + 1


def _json_duplicate(text: str, path: str, key: str) -> ScenarioError:
    """Where a JSON text repeats a key: read it as YAML (slow, but only then)."""
    try:
        _YamlReader(re.sub("[\t\r]", " ", text), path).read()
    except ScenarioError as exc:
        if exc.reason.startswith("duplicate key "):
            return exc
    except Exception:  # the line is a courtesy; without it the error stands
        pass
    return ScenarioError(path, f"duplicate key {key!r}")


def _read_json(text: str, path: str) -> tuple[Any, Callable[[Loc], int | None]]:
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_JsonConstant)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg[:1].lower()}{exc.msg[1:]} at column {exc.colno}"
        raise ScenarioError(path, f"malformed JSON: {reason}", exc.lineno) from None
    except _DuplicateKey as dup:
        raise _json_duplicate(text, path, dup.key) from None
    except (ValueError, RecursionError) as exc:
        raise ScenarioError(path, f"malformed JSON: {exc}") from None
    return data, lambda loc: _json_line(text, loc)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the garbage collector: building 100,000 objects that all stay
    alive otherwise sets off collection after collection (3 times slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- the public functions ----------------------------------------------------------------


def parse_scenario(text: str | bytes, path: str = "<string>") -> Scenario:
    """Read a scenario from its text.

    Parameters
    ----------
    text : str or bytes
        The file's content (bytes are decoded as UTF-8).
    path : str
        The file name shown in errors; a name ending in ``.json`` is read as
        strict JSON, anything else as YAML.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With a one-line message naming the file, the line and the key.

    Examples
    --------
    >>> sc = parse_scenario('''
    ... cluster: {nodes: 2}
    ... clients: [{name: alice, node: n1, rooms: lobby}]
    ... timeline:
    ...   - {at: 5, emit: {from: alice, to: lobby, event: hi}}
    ... ''')
    >>> sc.cluster
    ClusterSpec(nodes=['n1', 'n2'], adapter='redis')
    >>> step = sc.timeline[0]
    >>> step.action, step.emit.id, step.emit.to, step.emit.sender_is_client
    ('emit', 'm1', ['lobby'], True)
    >>> parse_scenario("cluster: {nodes: 1}\\nclients: [{name: a, nod: n1}]", "x.yaml")
    Traceback (most recent call last):
    ...
    roomsim.scenario.ScenarioError: x.yaml:2: clients[0].nod: unknown key 'nod' ...
    """
    path = str(path)
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(path, "not a text file (UTF-8 expected)") from None
    if "\x00" in text:
        raise ScenarioError(path, "not a text file (UTF-8 expected)")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ScenarioError(path, "the file is empty")
    read = _read_json if path.lower().endswith(".json") else _read_yaml
    with _gc_paused():
        data, line_of = read(text, path)
        return _validate(data, path, line_of)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file (YAML, or strict JSON when the name ends in ``.json``).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file is missing, unreadable, not UTF-8 text, empty or invalid.
    """
    shown = os.fsdecode(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ScenarioError(shown, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "is a directory, not a file") from None
    except PermissionError:
        raise ScenarioError(shown, "permission denied") from None
    except OSError as exc:
        reason = f"cannot read the file ({exc.strerror or exc})"
        raise ScenarioError(shown, reason) from None
    return parse_scenario(raw, shown)


def scenario_from_dict(data: dict[str, Any], path: str = "<dict>") -> Scenario:
    """Validate a scenario given as Python data, with the keys of a file.

    Parameters
    ----------
    data : dict
        The scenario as a YAML or JSON file gives it (``"from"``, ``"except"``).
    path : str
        The name shown in errors.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        As for a file, without a line number.
    """
    return _validate(data, str(path), lambda loc: None)
