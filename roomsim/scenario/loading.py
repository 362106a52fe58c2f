"""Loading a scenario: from a file, a text or Python data, to a checked :class:`Scenario`."""

import functools
import json
import os
import stat
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from roomsim._gc import gc_paused
from roomsim.scenario.document import PROBLEMS, Scenario
from roomsim.scenario.errors import (
    MAX_PROBLEMS,
    LineOf,
    Loc,
    Problems,
    ScenarioError,
    all_problems,
    dotted,
    file_order,
    first_problem,
    show,
)
from roomsim.scenario.models import FILE_KEYS, CostsSpec
from roomsim.scenario.reading import read_json, read_yaml

__all__ = [
    "MAX_FILE_BYTES",
    "load_scenario",
    "parse_scenario",
    "scenario_data",
    "scenario_from_dict",
]

_T = TypeVar("_T")

#: the largest scenario file read, in bytes (a 1,000,000-step YAML file is about 60 MB)
MAX_FILE_BYTES = 256 * 2**20


def _alone(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Raise a ScenarioError without the parser's or pydantic's error behind it.

    The one line says everything; dropping the chained error also lets the
    error travel between processes (a sweep's workers) as plain data.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> _T:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as err:
            problem = err
        problem.__cause__ = problem.__context__ = None
        problem.__traceback__ = None
        raise problem

    return wrapper


@_alone
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
    >>> sc.cluster.nodes, sc.cluster.adapter
    (['n1', 'n2'], 'redis')
    >>> step = sc.timeline[0]
    >>> step.action, step.emit.id, step.emit.to, step.emit.sender_is_client
    ('emit', 'm1', ['lobby'], True)
    >>> parse_scenario("cluster: {nodes: 1}\\nclients: [{name: a, nod: n1}]", "x.yaml")
    Traceback (most recent call last):
    ...
    roomsim.scenario.ScenarioError: x.yaml:2: clients[0].nod: unknown key 'nod' ...
    """
    path = str(path)
    with gc_paused():
        data, line_of = _read_text(text, path)
        return _validate(data, path, line_of)


def _read_text(text: str | bytes, path: str) -> tuple[Any, LineOf]:
    """A scenario's text as plain data (YAML, or JSON for a ``.json`` name), not yet checked."""
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
    if _is_trace(text):
        raise ScenarioError(path, "this is a trace, not a scenario: use draw, why or check")
    read = read_json if path.lower().endswith(".json") else read_yaml
    return read(text, path)


@_alone
def scenario_data(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A scenario file's data, read exactly as :func:`load_scenario` reads it, not checked.

    For tools that change a scenario before checking it (a sweep's grid).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    dict
        The file's keys and values (YAML 1.2: a room ``no`` is the text ``'no'``).

    Raises
    ------
    ScenarioError
        When the file cannot be read, or is not a mapping of YAML or JSON.
    """
    shown = os.fsdecode(path)
    data, line_of = _read_text(_read_file(path, shown), shown)
    _mapping(data, shown, line_of)
    return data  # type: ignore[no-any-return]


def _is_trace(text: str) -> bool:
    """Whether ``text`` is a trace that ``roomsim run --trace`` wrote (JSON Lines).

    Its first line is a record: a JSON mapping with a time ``t`` and a ``kind``.

    Examples
    --------
    >>> _is_trace('{"t":0,"kind":"connect","client":"a"}\\n{"t":1,"kind":"join"}\\n')
    True
    >>> _is_trace('{"cluster": {"nodes": 1}}')
    False
    """
    first = text[:100_000].lstrip().partition("\n")[0]
    if not first.startswith("{") or '"kind"' not in first:
        return False
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "t" in record and isinstance(record.get("kind"), str)


@_alone
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
    return parse_scenario(_read_file(path, shown), shown)


def _read_file(path: str | os.PathLike[str], shown: str) -> bytes:
    """A scenario file's bytes: a regular file of at most :data:`MAX_FILE_BYTES`.

    A device (``/dev/zero``), a FIFO or a socket is refused without reading
    from it (a FIFO is opened without waiting for a writer), and a file is
    never read beyond the limit, so nothing given as a scenario can hang the
    command or fill the memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ScenarioError(shown, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "is a directory, not a file") from None
    except PermissionError:
        raise ScenarioError(shown, "permission denied") from None
    except OSError as exc:
        raise ScenarioError(shown, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise ScenarioError(shown, "is a directory, not a file")
        if not stat.S_ISREG(mode.st_mode):
            what = _special_kind(mode.st_mode)
            raise ScenarioError(shown, f"is {what}, not a scenario file (a regular file)")
        if mode.st_size > MAX_FILE_BYTES:
            raise ScenarioError(shown, _too_big(mode.st_size))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(shown, f"cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # it grew, or says a wrong size (/proc)
        raise ScenarioError(shown, _too_big(None))
    return raw


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (a named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _too_big(size: int | None) -> str:
    limit = f"a scenario file may be at most {MAX_FILE_BYTES // 2**20} MiB"
    if size is None:
        return f"the file is too large: {limit}"
    return f"the file is {size / 2**20:,.0f} MiB: {limit}"


@_alone
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


def _validate(data: Any, path: str, line_of: LineOf) -> Scenario:
    """Validate file data, or raise every problem found, in the order of the file."""
    _mapping(data, path, line_of)
    report = Problems()
    try:
        scenario = Scenario.model_validate(data, context={FILE_KEYS: True, PROBLEMS: report})
    except ValidationError as exc:
        found = all_problems(exc, data, Scenario)
        more = _salvaged_problems(data, found)
        raise _all_of(found + more.found, len(found) + more.count, data, path, line_of) from None
    except ValueError as exc:  # pydantic refusing a 5,000-digit number as a name
        raise ScenarioError(path, f"cannot read a value ({exc})") from None
    if report.count:
        raise _all_of(report.found, report.count, data, path, line_of)
    from roomsim.scenario.hints import room_warnings

    scenario._warnings = room_warnings(scenario, path, line_of)
    if isinstance(scenario.costs, str) and scenario.costs != "default":
        scenario.costs = _profile_file(scenario.costs, path, line_of)
    return scenario


def _all_of(
    found: list[tuple[Loc, str]], total: int, data: Any, path: str, line_of: LineOf
) -> ScenarioError:
    """One error for every problem of ``found`` (the first :data:`MAX_PROBLEMS`), by line."""
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda problem: file_order(data, problem[0]))
    lines = [(line_of(loc), file_order(data, loc), loc, why) for loc, why in unique[:MAX_PROBLEMS]]
    lines.sort(key=lambda p: (p[0] if p[0] is not None else 0, p[1]))
    problems = [ScenarioError(path, why, line, dotted(loc) or None) for line, _, loc, why in lines]
    return ScenarioError.of(problems, total - (len(found) - len(unique)))


_PARTS = ("clients", "groups", "timeline")  # lists whose broken items can be left out


def _salvaged_problems(data: dict[str, Any], found: list[tuple[Loc, str]]) -> Problems:
    """The problems across parts of the data that do validate (unknown names, ...).

    The broken items of ``clients``, ``groups`` and ``timeline`` are left out,
    and so are broken optional keys; the names of clients left out are not
    called unknown.  Nothing is checked when the cluster itself is broken.
    """
    report = Problems()
    broken: dict[str, set[int]] = {part: set() for part in _PARTS}
    drop: set[str] = set()
    for loc, _ in found:
        if not loc or loc[0] == "cluster":
            return report
        if loc[0] in _PARTS and len(loc) > 1 and isinstance(loc[1], int):
            broken[loc[0]].add(loc[1])  # type: ignore[index]
        else:
            drop.add(loc[0])  # type: ignore[arg-type]
    kept = {key: value for key, value in data.items() if key not in drop}
    renumber: dict[str, list[int]] = {}
    left_out: list[Any] = []
    for part, bad in broken.items():
        items = kept.get(part)
        if bad and isinstance(items, list):
            renumber[part] = [i for i in range(len(items)) if i not in bad]
            kept[part] = [items[i] for i in renumber[part]]
            if part != "timeline":
                left_out += [items[i] for i in sorted(bad)]
    excused = _maybe_of(left_out)
    if drop & {"clients", "groups"}:  # a whole list is broken: any name may be of it
        excused = lambda name: True  # noqa: E731
    report = Problems(renumber=renumber, excused=excused)
    try:
        Scenario.model_validate(kept, context={FILE_KEYS: True, PROBLEMS: report})
    except Exception:  # the parts do not validate apart: only the first problems stand
        return Problems()
    return report


def _maybe_of(left_out: list[Any]) -> Callable[[str], bool]:
    """Whether a client's name may be that of a client or group left out."""
    names: set[str] = set()
    prefixes: list[str] = []
    for item in left_out:
        given = item.get("name", item.get("prefix")) if isinstance(item, dict) else None
        if not isinstance(given, str):  # no telling which names it had
            return lambda name: True
        if "prefix" in item:
            prefixes.append(given)
        else:
            names.add(given)
    return lambda name: name in names or any(name.startswith(p) for p in prefixes)


def _profile_file(name: str, path: str, line_of: LineOf) -> CostsSpec:
    """The cost profile file ``name`` (relative to the scenario ``path``), validated."""
    base = os.path.dirname(path) if not path.startswith("<") else ""
    where = os.path.join(base, name)
    if not os.path.isfile(where):
        raise ScenarioError(path, f"no cost profile file {where!r}", line_of(("costs",)), "costs")
    data, profile_line_of = _read_text(_read_file(where, where), where)
    if not isinstance(data, dict):
        raise ScenarioError(where, "a cost profile is a mapping of entries", profile_line_of(()))
    try:
        return CostsSpec.model_validate(data)
    except ValidationError as exc:
        raise first_problem(exc, data, where, profile_line_of, CostsSpec) from None


def _mapping(data: Any, path: str, line_of: LineOf) -> None:
    """Refuse data that is not a mapping at the top level."""
    if not isinstance(data, dict):
        # the kind of value only: a text here may be a file the user did not mean to show
        got = "a text" if isinstance(data, str) else show(data)
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            got = "a number"
        reason = f"expected a mapping at the top level, got {got}"
        raise ScenarioError(path, reason, line_of(()))
