"""Reading a scenario file's text into plain data, remembering where each key is.

:func:`read_yaml` and :func:`read_json` return the data and a function
giving the 1-based line of a location (``("clients", 1, "node")``), or
raise a :class:`ScenarioError` for text that is not YAML or JSON.
"""

import json
import re
from typing import Any

import yaml

from roomsim.scenario.errors import LineOf, Loc, ScenarioError, dotted, show

__all__ = ["read_json", "read_yaml"]

_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_MAX_FLOW_DEPTH = 200  # libyaml overflows the C stack on very deep nesting
_YAML_TAG = "tag:yaml.org,2002:"


def _core_schema(base: Any) -> Any:
    """``base`` resolving plain scalars as YAML 1.2's core schema does.

    PyYAML follows YAML 1.1, where ``on``, ``no``, ``1:30`` (base 60),
    ``1_000`` and ``2024-01-01`` are booleans, numbers and dates; in YAML 1.2
    (and for a scenario's names) they are strings.
    """
    loader: Any = type(f"Core{base.__name__}", (base,), {"yaml_implicit_resolvers": {}})
    rules = [
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        (
            "float",
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            "-+.0123456789",
        ),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("merge", r"^(?:<<)$", "<"),
    ]
    for tag, pattern, first in rules:
        loader.add_implicit_resolver(_YAML_TAG + tag, re.compile(pattern), list(first))
    return loader


_SafeLoader = _core_schema(yaml.SafeLoader)
_FastLoader = _core_schema(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


# --- YAML -------------------------------------------------------------------------------


class _YamlReader:
    """Build plain data from YAML's node tree, remembering where each key is.

    ``lines`` maps a location (``("clients", 1, "node")``) to the 1-based line
    of the key (mapping entries) or of the item (list items).
    """

    def __init__(self, text: str, path: str) -> None:
        self.lines: dict[Loc, int]
        self.path, self.lines = path, {}
        deep = _flow_depth(text) > _MAX_FLOW_DEPTH
        self._loader = (_SafeLoader if deep else _FastLoader)(text)
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
        return ScenarioError(self.path, reason, line, dotted(loc) or None)

    def _build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _YAML_TAG + "str":
                return node.value
            try:
                value = self._loader.construct_object(node)
            except (ValueError, TypeError, OverflowError) as exc:
                raise self._fail(node, loc, f"cannot read {show(node.value)} ({exc})") from None
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
                    where = (*loc, i)
                    self.lines[where] = item.start_mark.line + 1
                    items.append(self._build(item, where))
                return items
            if isinstance(node, yaml.MappingNode) and node.tag == _YAML_TAG + "map":
                mapping = {}
                for key, (key_node, value_node) in self._entries(node, loc).items():
                    where = (*loc, key)
                    self.lines[where] = key_node.start_mark.line + 1
                    mapping[key] = self._build(value_node, where)
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


def read_yaml(text: str, path: str) -> tuple[Any, LineOf]:
    """Read YAML text: the data, and where each location of it is.

    Parameters
    ----------
    text : str
        The file's content.
    path : str
        The file name shown in errors.

    Returns
    -------
    data : Any
        Plain data: mappings, lists, strings, numbers, booleans, null.
    line_of : callable
        The line of a location, or of its deepest enclosing part found.

    Raises
    ------
    ScenarioError
        When the text is not YAML, or uses what a scenario cannot hold.
    """
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


# --- JSON -------------------------------------------------------------------------------


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
                    key, end = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
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


def read_json(text: str, path: str) -> tuple[Any, LineOf]:
    """Read strict JSON text: the data, and where each location of it is.

    Parameters
    ----------
    text : str
        The file's content.
    path : str
        The file name shown in errors.

    Returns
    -------
    data : Any
        Plain data (``NaN`` and ``Infinity`` are kept, to be refused by validation).
    line_of : callable
        The line of a location, found only when asked (for an error).

    Raises
    ------
    ScenarioError
        When the text is not JSON, or repeats a key in a mapping.
    """
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
