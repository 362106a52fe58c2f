"""Reading a scenario file's text into plain data, remembering where each key is.

:func:`read_yaml` and :func:`read_json` return the data and a function
giving the 1-based line of a location (``("clients", 1, "node")``), or
raise a :class:`ScenarioError` for text that is not YAML or JSON.

YAML is read as YAML 1.2's core schema (``no`` and ``on`` are text), from
the parser's events: no tree of nodes is kept, so a file takes about the
memory of its data, as a JSON file does.  Aliases (``*name``) may stand for
at most :data:`MAX_ALIASED` values in all (a "billion laughs" file is
refused at once), values nest at most :data:`MAX_DEPTH` levels deep, and
only plain values are read: a tag such as ``!!python/object`` is refused, so
a scenario file can never make roomsim run code.
"""

import json
import re
from array import array
from typing import Any

import yaml

from roomsim.scenario.errors import LineOf, Loc, ScenarioError, dotted, show

__all__ = ["MAX_ALIASED", "MAX_DEPTH", "read_json", "read_yaml"]

#: how many values the aliases (``*name``) of one file may stand for, in all
MAX_ALIASED = 1_000_000
#: how deep mappings and lists may nest in a YAML file
MAX_DEPTH = 100

_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_YAML_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _YAML_TAG + "str", _YAML_TAG + "seq", _YAML_TAG + "map"
_PLAIN_TAGS = (None, "!")
_DIGITS = frozenset("0123456789")
_MAYBE_NOT_TEXT = frozenset("-+.0123456789tTfFnN~<")  # the first letters of the core schema


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


_Loader = _core_schema(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
_constructor = yaml.constructor.SafeConstructor()
_CONSTRUCT = {
    _YAML_TAG + "int": _constructor.construct_yaml_int,
    _YAML_TAG + "float": _constructor.construct_yaml_float,
    _YAML_TAG + "bool": _constructor.construct_yaml_bool,
    _YAML_TAG + "null": _constructor.construct_yaml_null,
    # safe, and refused by validation in plain words ("got a date")
    _YAML_TAG + "timestamp": _constructor.construct_yaml_timestamp,
    _YAML_TAG + "binary": _constructor.construct_yaml_binary,
}


# --- YAML -------------------------------------------------------------------------------


class _Frame:
    """A mapping or a list being read."""

    __slots__ = ("anchor", "count", "is_map", "key", "key_line", "loc", "merges", "value")

    def __init__(self, is_map: bool, loc: Loc, anchor: str | None, count: int) -> None:
        self.is_map, self.loc, self.anchor, self.count = is_map, loc, anchor, count
        self.value: Any = {} if is_map else []
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merges: list[dict[str, Any]] = []


_NO_KEY, _MERGE = object(), object()


class _Units:
    """Where the values two levels down are (``clients[7]``, ``cluster.nodes``).

    Lines deeper down are found only when an error asks for one, by reading
    again the text of the value two levels down that holds them.
    """

    __slots__ = ("cols", "ends", "keys", "lines", "starts", "value_lines")

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}
        self.lines, self.value_lines = array("q"), array("q")
        self.cols, self.starts, self.ends = array("q"), array("q"), array("q")


class _YamlReader:
    """Build plain data from YAML's events, remembering where each key is.

    ``lines`` maps a location of depth 0 or 1 to the 1-based line of the key
    (mapping entries) or of the item (list items); ``units`` holds the places
    of depth 2.  With ``every_line``, ``lines`` holds every location (for
    the short texts an error reads again).
    """

    def __init__(self, text: str, path: str, every_line: bool = False) -> None:
        self.path, self.every_line = path, every_line
        self.lines: dict[Loc, int] = {}
        self.units: dict[str, _Units] = {}
        self._loader = _Loader(text)
        self._anchors: dict[str, tuple[Any, str | None, int]] = {}  # value, key text, size
        self._open: set[str] = set()  # anchors of values being read, to catch self-reference
        self._keys: dict[str, str] = {}
        self._count = 0  # values read so far, aliases counted whole
        self._aliased = 0  # values the aliases stood for
        self._unit: _Units | None = None  # the place of the value being read two levels down

    def read(self) -> Any:
        loader = self._loader
        try:
            loader.get_event()  # the stream's start
            if loader.check_event(yaml.StreamEndEvent):
                reason = "expected a mapping at the top level, got an empty document"
                raise ScenarioError(self.path, reason)
            loader.get_event()  # the document's start
            data = self._document()
            loader.get_event()  # the document's end
            if not loader.check_event(yaml.StreamEndEvent):
                line = loader.peek_event().start_mark.line + 1
                reason = "malformed YAML: expected one document, found a second one (after ---)"
                raise ScenarioError(self.path, reason, line)
            return data
        finally:
            loader.dispose()

    def _fail(self, event: Any, loc: Loc, reason: str) -> ScenarioError:
        return ScenarioError(self.path, reason, event.start_mark.line + 1, dotted(loc) or None)

    def _document(self) -> Any:
        get = self._loader.get_event
        stack: list[_Frame] = []
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        record = self._record
        value: Any
        while True:
            event = get()
            kind = event.__class__
            top = stack[-1] if stack else None
            if top is not None and top.is_map and top.key is _NO_KEY and kind not in ends:
                self._key(top, event)
                continue
            depth = len(stack)
            if kind is scalar_event:
                if depth <= 2 or self.every_line:
                    record(top, event, depth)
                value = self._scalar(event, top)
                self._count += 1
                if event.anchor is not None:  # the latest anchor of a name is the one used
                    self._open.discard(event.anchor)
                    self._anchors[event.anchor] = (value, event.value, 1)
                if depth == 2 and self._unit is not None:
                    self._unit.ends[-1] = event.end_mark.index
            elif kind is alias_event:
                if depth <= 2 or self.every_line:
                    record(top, event, depth)
                value = self._alias(event, top)
                if depth == 2 and self._unit is not None:
                    self._unit.ends[-1] = event.end_mark.index
            elif kind in ends:
                frame = stack.pop()
                value = frame.value
                if frame.merges:
                    value = _merged(frame.merges, value)
                self._count += 1
                if frame.anchor is not None:
                    self._open.discard(frame.anchor)
                    self._anchors[frame.anchor] = (value, None, self._count - frame.count)
                depth -= 1
                top = stack[-1] if stack else None
                if depth == 2 and self._unit is not None:
                    self._unit.ends[-1] = event.end_mark.index
            else:  # the start of a mapping or a list
                if depth <= 2 or self.every_line:
                    record(top, event, depth)
                stack.append(self._start(event, top, depth))
                continue
            if top is None:
                return value
            if not top.is_map:
                top.value.append(value)
            elif top.key is _MERGE:
                self._merge(top, value, event)
            else:
                top.value[top.key] = value
                top.key = _NO_KEY

    def _here(self, top: _Frame | None) -> Loc:
        """The location of the value about to be read in ``top``."""
        if top is None:
            return ()
        if top.is_map:
            return (*top.loc, top.key) if top.key is not _MERGE else top.loc
        return (*top.loc, len(top.value))

    def _record(self, top: _Frame | None, event: Any, depth: int) -> None:
        """Note where the value starting at ``event`` is."""
        self._unit = None
        if top is not None and top.key is _MERGE:  # a merge's value: its keys have their own
            return
        loc = self._here(top)
        mark = event.start_mark
        line = top.key_line if top is not None and top.is_map else mark.line + 1
        if depth <= 1 or self.every_line:
            self.lines[loc] = line
            return
        units = self.units.get(loc[0])  # type: ignore[arg-type]
        if units is None:
            units = self.units[loc[0]] = _Units()  # type: ignore[index]
        self._unit = units
        if top.is_map:  # type: ignore[union-attr]
            units.keys[loc[1]] = len(units.lines)  # type: ignore[index]
        units.lines.append(line)
        units.value_lines.append(mark.line + 1)
        units.cols.append(mark.column)
        units.starts.append(mark.index)
        units.ends.append(mark.index)

    def _start(self, event: Any, top: _Frame | None, depth: int) -> _Frame:
        is_map = event.__class__ is yaml.MappingStartEvent
        loc = self._here(top)
        if event.tag not in (*_PLAIN_TAGS, _MAP if is_map else _SEQ):
            raise self._fail(event, loc, f"unsupported YAML tag {_short_tag(event.tag)}")
        if depth >= MAX_DEPTH:
            line, where = event.start_mark.line + 1, dotted(loc[:6]) + "..."
            raise ScenarioError(self.path, f"nested more than {MAX_DEPTH} levels deep", line, where)
        if event.anchor is not None:
            self._open.add(event.anchor)
        return _Frame(is_map, loc, event.anchor, self._count)

    def _scalar(self, event: Any, top: _Frame | None) -> Any:
        tag, text = event.tag, event.value
        if tag in _PLAIN_TAGS:
            if not event.implicit[0]:
                return text
            first = text[:1]
            if first and first not in _MAYBE_NOT_TEXT:  # most names: text at once
                return text
            if first in _DIGITS and len(text) < 20 and text.isdigit() and first != "0":
                return int(text)
            tag = self._loader.resolve(yaml.ScalarNode, text, (True, False))
        return self._scalar_tagged(event, top, text, tag)

    def _scalar_tagged(self, event: Any, top: _Frame | None, text: str, tag: str) -> Any:
        """A scalar with its tag (given, or resolved from a plain scalar's text)."""
        if tag == _STR:
            return text
        construct = _CONSTRUCT.get(tag)
        if construct is None:
            raise self._fail(event, self._here(top), f"unsupported YAML tag {_short_tag(tag)}")
        try:
            value = construct(yaml.ScalarNode(tag, text))
        except (ValueError, TypeError, OverflowError) as exc:
            reason = f"cannot read {show(text)} ({str(exc)[:60]})"
            raise self._fail(event, self._here(top), reason) from None
        if isinstance(value, int) and value.bit_length() > 10_000:
            raise self._fail(event, self._here(top), "this number is too long")
        return value

    def _alias(self, event: Any, top: _Frame | None) -> Any:
        name = event.anchor
        if name in self._open:
            raise self._fail(event, self._here(top), "an alias refers to a value that contains it")
        found = self._anchors.get(name)
        if found is None:
            reason = f"malformed YAML: found undefined alias {show(name)}"
            raise self._fail(event, self._here(top), reason)
        value, _, size = found
        self._count += size
        self._aliased += size
        if self._aliased > MAX_ALIASED:
            reason = (
                f"aliases (*name) stand for more than {MAX_ALIASED:,} values in all;"
                " a scenario file may not expand beyond that"
            )
            raise self._fail(event, self._here(top), reason)
        return value  # shared, not copied: nothing changes the data once read

    def _key(self, top: _Frame, event: Any) -> None:
        """Read the key of ``top``'s next entry."""
        kind = event.__class__
        if kind is yaml.AliasEvent:
            found = self._anchors.get(event.anchor)
            text = found[1] if found is not None else None
            if text is None:
                reason = "expected a plain key, got an alias of a list or a mapping"
                raise self._fail(event, top.loc, reason)
        elif kind is not yaml.ScalarEvent:
            raise self._fail(event, top.loc, "expected a plain key, got a list or a mapping")
        else:
            text = event.value
            if event.tag not in _PLAIN_TAGS and event.tag not in (_STR, *_CONSTRUCT):
                raise self._fail(event, top.loc, f"unsupported YAML tag {_short_tag(event.tag)}")
            if event.anchor is not None:
                self._anchors[event.anchor] = (text, text, 1)
        if kind is yaml.ScalarEvent and text == "<<" and event.tag is None and event.implicit[0]:
            top.key = _MERGE
        elif text in top.value:
            raise self._fail(event, (*top.loc, text), f"duplicate key {show(text)}")
        else:
            top.key = self._keys.setdefault(text, text)  # one string for each key: less memory
        top.key_line = event.start_mark.line + 1
        self._count += 1

    def _merge(self, top: _Frame, value: Any, event: Any) -> None:
        """``<<: *defaults`` (or a list of them): keys ``top`` does not give itself."""
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                raise self._fail(event, top.loc, "expected a mapping to merge")
            top.merges.append(source)
        top.key = _NO_KEY


def _merged(sources: list[dict[str, Any]], own: dict[str, Any]) -> dict[str, Any]:
    """The keys of the merged mappings (the first to give a key wins), then the own ones."""
    merged: dict[str, Any] = {}
    for source in sources:
        for key, value in source.items():
            merged.setdefault(key, value)
    return {**merged, **own}


def _short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` -> ``'!!python/object'``, shortened."""
    return show(("!!" + tag[len(_YAML_TAG) :]) if tag.startswith(_YAML_TAG) else tag)


def _deep_line(text: str, reader: _YamlReader, loc: Loc) -> int | None:
    """The line of ``loc`` (depth 3 or more), read again from the text of its unit."""
    units = reader.units.get(loc[0])  # type: ignore[arg-type]
    if units is None:
        return None
    part = loc[1]
    if isinstance(part, int):
        k = part if 0 <= part < len(units.lines) and not units.keys else None
    else:
        k = units.keys.get(part)
    if k is None:
        return None
    if len(loc) == 2:
        return units.lines[k]
    piece = " " * units.cols[k] + text[units.starts[k] : units.ends[k]]
    sub = _YamlReader(piece, reader.path, every_line=True)
    try:
        sub.read()
    except Exception:  # the line is a courtesy: without it, the unit's line
        return units.lines[k]
    rest = loc[2:]
    for end in range(len(rest), 0, -1):
        if rest[:end] in sub.lines:
            return units.value_lines[k] + sub.lines[rest[:end]] - 1
    return units.lines[k]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _line_above(lines: list[str], line_no: int) -> int | None:
    """The nearest line above ``line_no`` (0-based) holding more than a comment."""
    for n in range(line_no - 1, -1, -1):
        content = lines[n].strip()
        if content and not content.startswith("#"):
            return n
    return None


_INDENTATION_PROBLEMS = (
    "mapping values are not allowed",
    "did not find expected key",
    "did not find expected '-' indicator",
    "expected <block end>",
    "did not find expected <document start>",
)


def _layout_problem(text: str, problem: str, line_no: int, column: int) -> str | None:
    """A tab or a wrong indentation at line ``line_no`` (0-based), in a student's words."""
    lines = text.split("\n", line_no + 1)
    if line_no >= len(lines):
        return None
    line = lines[line_no]
    lead = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in lead or "tab character" in problem or line[column : column + 1] == "\t":
        return (
            f"a tab is used for indentation on line {line_no + 1};"
            " YAML indents with spaces only (no tabs)"
        )
    if not problem.startswith(_INDENTATION_PROBLEMS):
        return None
    above_no = _line_above(lines, line_no)
    if above_no is None:
        return None
    above = lines[above_no]
    col = _indent(line)
    stripped = above.lstrip(" ")
    above_col = len(above) - len(stripped)
    if not line.lstrip(" ").startswith("-"):
        while stripped.startswith("- "):  # "  - name: a": its key starts after the dash
            above_col += 2 + _indent(stripped[2:])
            stripped = stripped[2:].lstrip(" ")
    if col == above_col:
        return None
    return (
        f"indentation: line {line_no + 1} starts in column {col + 1} but line {above_no + 1}"
        f" above it in column {above_col + 1}; the keys of one mapping, and the items of"
        " one list, start in the same column"
    )


def _yaml_problem(exc: yaml.YAMLError, path: str, text: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or context or "cannot parse"
    layout = None if mark is None else _layout_problem(text, problem, mark.line, mark.column)
    if layout is not None:
        return ScenarioError(path, f"malformed YAML: {layout}", mark.line + 1)  # type: ignore[union-attr]
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

    Examples
    --------
    >>> data, line_of = read_yaml("cluster:\\n  nodes: [n1, no]\\n", "s.yaml")
    >>> data, line_of(("cluster", "nodes", 1))
    ({'cluster': {'nodes': ['n1', 'no']}}, 2)
    """
    bad = _NOT_YAML.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise ScenarioError(path, f"character {bad.group()!r} is not allowed in YAML", line)
    reader = _YamlReader(text, path)
    try:
        data = reader.read()
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, path, text) from None

    def line_of(loc: Loc) -> int | None:
        if len(loc) >= 2:
            found = _deep_line(text, reader, loc)
            if found is not None:
                return found
        for end in range(min(len(loc), 1), -1, -1):  # the deepest recorded prefix
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
    return ScenarioError(path, f"duplicate key {show(key)}")


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
