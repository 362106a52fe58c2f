"""Scenario files: what to simulate, validated before any simulation starts.

A scenario is a YAML file, or a strict JSON file when its name ends in
``.json`` (see ``scenario-format.md``, version 1). :func:`load_scenario` and
:func:`parse_scenario` turn it into a :class:`Scenario` of plain data, or
raise a :class:`ScenarioError` whose text is one line naming the file, the
line and the key::

    examples/x.yaml:7: clients[1].nodee: unknown key 'nodee' (did you mean 'node'?)
"""

import difflib
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
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
    {"connect", "connect_error", "disconnect", "disconnecting"} | {"newListener", "removeListener"}
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

_NAME = re.compile(NAME_PATTERN)
_FILE_KEYS = "roomsim.file_keys"  # validation context: the input uses file keys
_LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_MAX_FLOW_DEPTH = 200  # libyaml overflows the C stack on very deep nesting
_YAML_MAP, _YAML_SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_YAML_MERGE = "tag:yaml.org,2002:merge"
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[str | int, ...]


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


# --- checks of single values -------------------------------------------------


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
    kinds = {list: "a list", tuple: "a list", dict: "a mapping", bytes: "binary data"}
    return kinds.get(type(value)) or getattr(value, "shown", f"a {type(value).__name__}")


def _invalid(reason: str, sub: Loc = ()) -> PydanticCustomError:
    """An error raised in a validator; ``sub`` extends the location pydantic knows."""
    shown = f"{_dotted(sub)}: {reason}" if sub else reason
    return PydanticCustomError("roomsim", "{shown}", {"shown": shown, "reason": reason, "sub": sub})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_name(value: Any) -> str:
    if _is_number(value):
        try:
            value = str(value)
        except ValueError:
            raise _invalid("expected a name, got a very long number") from None
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    raise _invalid(f"expected a name (letters, digits, _ - : .), got {_show(value)}")


def _as_name_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) or _is_number(value):
        return [value]
    raise _invalid(f"expected a name or a list of names, got {_show(value)}")


def _non_empty(names: list[str]) -> list[str]:
    if not names:
        raise _invalid("expected at least one name, got an empty list")
    return names


def _check_nodes(value: Any) -> list[Any]:
    if _is_number(value) and isinstance(value, int):
        if 1 <= value <= MAX_NODES:
            return [f"n{k}" for k in range(1, value + 1)]
        raise _invalid(f"expected a number of nodes from 1 to {MAX_NODES}, got {_show(value)}")
    if isinstance(value, (list, tuple)) and value:
        return list(value)
    raise _invalid(f"expected a list of node names or a number of nodes, got {_show(value)}")


def _check_ms(value: Any) -> float:
    if _is_number(value):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number) and number >= 0:
            return number
    raise _invalid(f"expected a time in ms (a number >= 0), got {_show(value)}")


def _check_seed(value: Any) -> int:
    if _is_number(value) and isinstance(value, int):
        return value
    raise _invalid(f"expected a whole number, got {_show(value)}")


def _check_text(value: Any) -> str:
    if isinstance(value, str) or _is_number(value):
        return str(value)
    raise _invalid(f"expected a text, got {_show(value)}")


def _check_event(value: Any) -> str:
    if (isinstance(value, str) and value) or _is_number(value):
        return str(value)
    raise _invalid(f"expected an event name (a non-empty string), got {_show(value)}")


def _check_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid(f"expected true or false, got {_show(value)}")


def _check_namespace(value: Any) -> str:
    if value == "" or value == "/":
        return "/"
    if isinstance(value, str) and value[0] == "/" and _NAME.fullmatch(value[1:]):
        return value
    raise _invalid(f"expected a namespace ('/' or '/' followed by a name), got {_show(value)}")


def _check_reason(value: Any) -> str:
    if isinstance(value, str) and value in DISCONNECT_REASONS:
        return value
    known = ", ".join(repr(r) for r in DISCONNECT_REASONS)
    raise _invalid(f"expected a disconnect reason (one of {known}), got {_show(value)}")


def _check_adapter(value: Any) -> str:
    if value in ("memory", "redis") and isinstance(value, str):
        return value
    raise _invalid(f"expected 'memory' or 'redis', got {_show(value)}")


def _check_json(value: Any) -> Any:
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
            raise _invalid(
                f"expected JSON data (null, true/false, numbers, text, lists, mappings), got {_show(item)}"
            )
    return value


def _nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


Name = Annotated[str, BeforeValidator(_check_name)]
Names = Annotated[list[Name], BeforeValidator(_as_name_list)]
SomeNames = Annotated[list[Name], BeforeValidator(_as_name_list), AfterValidator(_non_empty)]
Ms = Annotated[float, BeforeValidator(_check_ms)]
Flag = Annotated[bool, BeforeValidator(_check_flag)]


# --- the models --------------------------------------------------------------


class _Model(BaseModel):
    """Base of every part of a scenario: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    _not_file_keys: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _only_file_keys(cls, data: Any, info: ValidationInfo) -> Any:
        """In a file, refuse Python spellings (``from_``) and loader-filled fields."""
        if isinstance(data, dict) and info.context and info.context.get(_FILE_KEYS):
            for key in data:
                if key in _python_keys(cls):
                    raise _invalid(_unknown_key(key, cls), (key,))
        return data


class ClusterSpec(_Model):
    """The server nodes and the adapter that joins them."""

    nodes: Annotated[list[Name], BeforeValidator(_check_nodes)]
    adapter: Annotated[Literal["memory", "redis"], BeforeValidator(_check_adapter)] = "memory"

    @model_validator(mode="after")
    def _adapter_fits_nodes(self) -> "ClusterSpec":
        if "adapter" not in self.model_fields_set:
            self.adapter = "memory" if len(self.nodes) == 1 else "redis"
        elif self.adapter == "memory" and len(self.nodes) > 1:
            reason = "expected one node with adapter 'memory' (use 'redis' to join several nodes)"
            raise _invalid(reason, ("adapter",))
        return self


class LatencySpec(_Model):
    """Constant one-way latencies in ms."""

    client_ms: Ms = 0.0
    adapter_ms: Ms = 0.0


class ClientSpec(_Model):
    """A client: its socket connects to ``node`` at ``connect_at``."""

    name: Name
    node: Name
    rooms: Names = Field(default_factory=list)
    connect_at: Ms = 0.0
    namespace: Annotated[str, BeforeValidator(_check_namespace)] = "/"


class JoinStep(_Model):
    """``socket.join(rooms)``."""

    client: Name
    rooms: SomeNames


class LeaveStep(_Model):
    """``socket.leave(room)`` for each room."""

    client: Name
    rooms: SomeNames


class EmitStep(_Model):
    """An emit from a node (``io.to(...)``) or from a client's socket.

    ``id`` is ``"m<k>"`` (the smallest k not used by another emit) when the
    file gives none; ``sender_is_client`` is set when the scenario is validated.
    """

    id: Name = ""
    from_: Name = Field(alias="from")
    to: Annotated[list[Name] | None, BeforeValidator(_as_name_list), AfterValidator(_non_empty)] = (
        None
    )
    except_: Names = Field(default_factory=list, alias="except")
    event: Annotated[str, BeforeValidator(_check_event)] = "message"
    data: Annotated[Any, AfterValidator(_check_json)] = None
    broadcast: Flag = False
    local: Flag = False
    namespace: Annotated[str | None, BeforeValidator(_nullable(_check_namespace))] = None
    _sender_is_client: bool = PrivateAttr(default=False)

    @property
    def sender_is_client(self) -> bool:
        """True when ``from`` names a client, False when it names a node."""
        return self._sender_is_client


class DisconnectStep(_Model):
    """The client's socket goes away for ``reason``."""

    client: Name
    reason: Annotated[str, BeforeValidator(_check_reason)] = DISCONNECT_REASONS[0]


class ConnectStep(_Model):
    """The client connects again, as a new socket (to ``node`` if given)."""

    client: Name
    node: Annotated[str | None, BeforeValidator(_nullable(_check_name))] = None
    rooms: Names = Field(default_factory=list)


class Step(_Model):
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
            raise _invalid(f"expected exactly one action among {', '.join(ACTIONS)}, got {got}")
        return self

    @property
    def action(self) -> str:
        """The name of the step's action: ``"join"``, ``"emit"``, ..."""
        return next(a for a in ACTIONS if getattr(self, a) is not None)

    @property
    def body(self) -> JoinStep | LeaveStep | EmitStep | DisconnectStep | ConnectStep:
        """The step's action body."""
        return getattr(self, self.action)


class Scenario(_Model):
    """A whole scenario file, with names and references checked."""

    name: Annotated[str | None, BeforeValidator(_nullable(_check_text))] = None
    seed: Annotated[int | None, BeforeValidator(_nullable(_check_seed))] = None
    cluster: ClusterSpec
    latency: LatencySpec = Field(default_factory=LatencySpec)
    clients: list[ClientSpec] = Field(default_factory=list)
    timeline: list[Step] = Field(default_factory=list)
    until: Annotated[float | None, BeforeValidator(_nullable(_check_ms))] = None

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        _check_references(self)
        return self


def _check_references(sc: Scenario) -> None:
    """Check uniqueness and references; number steps, fill emit ids and senders."""
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
        if isinstance(step.body, EmitStep):
            _check_emit(step.body, where, nodes, clients, ids)
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


def _check_rooms(rooms: list[str], clients: dict[str, ClientSpec], where: Loc) -> None:
    for j, room in enumerate(rooms):
        if room in clients:
            raise _invalid(
                f"{room!r} is a client's name; a room may not have the same name",
                (*where, j),
            )


def _check_emit(
    emit: EmitStep,
    where: Loc,
    nodes: set[str],
    clients: dict[str, ClientSpec],
    ids: set[str],
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
        reason = f"expected the namespace of client {sender.name!r} ({sender.namespace!r}), got {emit.namespace!r}"
        raise _invalid(reason, (*where, "namespace"))


# --- from pydantic's errors to one line ---------------------------------------


def _dotted(loc: Loc) -> str:
    """``("timeline", 2, "emit", "to", 0)`` -> ``"timeline[2].emit.to[0]"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class found at a location, starting from :class:`Scenario`."""
    model: type[BaseModel] | None = Scenario
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        model = _model_in(fields[part].annotation) if part in fields else None
    return model


def _file_keys(model: type[BaseModel]) -> list[str]:
    hidden = getattr(model, "_not_file_keys", frozenset())
    return [f.alias or n for n, f in model.model_fields.items() if n not in hidden]


def _python_keys(model: type[BaseModel]) -> frozenset[str]:
    names = {n for n, f in model.model_fields.items() if f.alias not in (None, n)}
    return frozenset(names) | getattr(model, "_not_file_keys", frozenset())


def _unknown_key(key: Any, model: type[BaseModel] | None) -> str:
    known = _file_keys(model) if model else []
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r}" + (f" (known keys: {', '.join(known)})" if known else "")


def _explain(error: Any) -> tuple[Loc, str]:
    """The location and the plain-words reason of one pydantic error."""
    loc, kind, got = tuple(error["loc"]), error["type"], error.get("input")
    if kind == "roomsim":
        return loc + tuple(error["ctx"]["sub"]), error["ctx"]["reason"]
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc[-1], _model_at(loc[:-1]))
    if kind == "missing":
        return loc, f"missing key {loc[-1]!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {_show(got)}"
    if kind == "list_type":
        return loc, f"expected a list, got {_show(got)}"
    message = error["msg"].removeprefix("Value error, ")
    return loc, f"{message[:1].lower()}{message[1:]} (got {_show(got)})"


def _line_at(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest recorded prefix of ``loc``."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _first_error(
    exc: ValidationError, path: str, get_lines: Callable[[], dict[Loc, int]]
) -> ScenarioError:
    """The error that comes first in the file; unknown keys explain missing ones."""
    problems = [_explain(e) for e in exc.errors(include_url=False)]
    unknown_in = {loc[:-1] for loc, reason in problems if reason.startswith("unknown key")}
    problems = [
        (loc, reason)
        for loc, reason in problems
        if not (reason.startswith("missing key") and loc[:-1] in unknown_in)
    ]
    lines = get_lines()
    ranked = [(_line_at(lines, loc), n, loc, reason) for n, (loc, reason) in enumerate(problems)]
    line, _, loc, reason = min(ranked, key=lambda r: (r[0] is None, r[0] or 0, r[1]))
    return ScenarioError(path, reason, line, _dotted(loc) or None)


def _validate(data: Any, path: str, get_lines: Callable[[], dict[Loc, int]]) -> Scenario:
    if not isinstance(data, dict):
        reason = f"expected a mapping at the top level, got {_show(data)}"
        raise ScenarioError(path, reason, get_lines().get(()))
    try:
        return Scenario.model_validate(data, context={_FILE_KEYS: True})
    except ValidationError as exc:
        raise _first_error(exc, path, get_lines) from None


# --- reading YAML and JSON ------------------------------------------------------


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
                return None
            self.lines[()] = root.start_mark.line + 1
            return self._build(root, ())
        finally:
            self._loader.dispose()

    def _fail(self, node: yaml.Node, loc: Loc, reason: str) -> ScenarioError:
        return ScenarioError(self.path, reason, node.start_mark.line + 1, _dotted(loc) or None)

    def _build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.ScalarNode):
            try:
                return self._loader.construct_object(node)
            except (ValueError, TypeError, OverflowError) as exc:
                raise self._fail(node, loc, f"cannot read {node.value!r} ({exc})") from None
        if id(node) in self._open:
            raise self._fail(node, loc, "an alias refers to a value that contains it")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode) and node.tag == _YAML_SEQ:
                items = []
                for i, item in enumerate(node.value):
                    self.lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self._build(item, (*loc, i)))
                return items
            if isinstance(node, yaml.MappingNode) and node.tag == _YAML_MAP:
                mapping = {}
                for key, (key_node, value_node) in self._entries(node, loc).items():
                    self.lines[(*loc, key)] = key_node.start_mark.line + 1
                    mapping[key] = self._build(value_node, (*loc, key))
                return mapping
            raise self._fail(node, loc, f"unsupported YAML tag {node.tag!r}")
        finally:
            self._open.discard(id(node))

    def _entries(self, node: yaml.MappingNode, loc: Loc) -> dict[str, tuple[Any, Any]]:
        """A mapping's entries by key text, merge keys (``<<``) applied."""
        own: dict[str, tuple[Any, Any]] = {}
        merged: dict[str, tuple[Any, Any]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _YAML_MERGE:
                for source in self._merge_sources(value_node, loc):
                    for key, entry in self._entries(source, loc).items():
                        merged.setdefault(key, entry)
                    self._open.discard(id(source))
            elif not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, loc, "expected a plain key, got a list or a mapping")
            elif key_node.value in own:
                raise self._fail(
                    key_node,
                    (*loc, key_node.value),
                    f"duplicate key {key_node.value!r}",
                )
            else:
                own[key_node.value] = (key_node, value_node)
        return {**merged, **own}

    def _merge_sources(self, value: yaml.Node, loc: Loc) -> list[yaml.MappingNode]:
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise self._fail(source, loc, "expected a mapping after '<<'")
            if id(source) in self._open:
                raise self._fail(source, loc, "an alias refers to a value that contains it")
        self._open.update(id(source) for source in sources)
        return sources


def _flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest (strings included: an upper bound)."""
    if text.count("[") + text.count("{") <= _MAX_FLOW_DEPTH:
        return 0
    depth = deepest = 0
    for char in _NOT_BRACKET.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def _yaml_problem(exc: yaml.YAMLError, path: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "cannot parse"
    reason = f"malformed YAML: {problem}"
    if mark is not None:
        reason += f" at column {mark.column + 1}"
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context != problem and start is not None:
        reason += f" ({context} from line {start.line + 1})"
    return ScenarioError(path, " ".join(reason.split()), mark.line + 1 if mark else None)


def _read_yaml(text: str, path: str) -> tuple[Any, Callable[[], dict[Loc, int]]]:
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
    if data is None:
        raise ScenarioError(path, "expected a mapping at the top level, got an empty document")
    return data, lambda: reader.lines


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


def _json_lines(text: str, path: str) -> dict[Loc, int]:
    """Lines of a JSON text's keys, read as YAML (best effort, only on errors)."""
    text = re.sub("[\t\r\u2028\u2029]", " ", _NOT_YAML.sub(" ", text))
    reader = _YamlReader(text, path)
    try:
        reader.read()
    except Exception:  # the lines are a courtesy; without them the error stands
        return {}
    return reader.lines


def _read_json(text: str, path: str) -> tuple[Any, Callable[[], dict[Loc, int]]]:
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_JsonConstant)
    except json.JSONDecodeError as exc:
        reason = f"malformed JSON: {exc.msg[:1].lower()}{exc.msg[1:]} at column {exc.colno}"
        raise ScenarioError(path, reason, exc.lineno) from None
    except _DuplicateKey as dup:
        try:
            _YamlReader(re.sub("[\t\r]", " ", text), path).read()
        except ScenarioError as exc:
            if exc.reason == f"duplicate key {dup.key!r}":
                raise exc from None
        except Exception:
            pass
        raise ScenarioError(path, f"duplicate key {dup.key!r}") from None
    except (ValueError, RecursionError) as exc:
        raise ScenarioError(path, f"malformed JSON: {exc}") from None
    lines: dict[Loc, int] = {}
    if not isinstance(data, dict):
        lines[()] = text[: len(text) - len(text.lstrip())].count("\n") + 1
    return data, lambda: lines or _json_lines(text, path)


# --- the public functions ---------------------------------------------------------


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
    roomsim.scenario.ScenarioError: x.yaml:2: clients[0].nod: unknown key 'nod' (did you mean 'node'?)
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
    data, get_lines = read(text, path)
    return _validate(data, path, get_lines)


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
        raise ScenarioError(shown, f"cannot read the file ({exc.strerror or exc})") from None
    return parse_scenario(raw, shown)


def scenario_from_dict(data: dict[str, Any], path: str = "<dict>") -> Scenario:
    """Validate a scenario given as Python data with the file's keys.

    Parameters
    ----------
    data : dict
        The scenario as a YAML or JSON file would give it (``"from"``, ``"except"``).
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
    return _validate(data, str(path), dict)
