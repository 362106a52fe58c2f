"""Scenario errors: :class:`ScenarioError`, and pydantic's errors put in one line.

Validators raise :func:`invalid` with a reason in plain words; for every
other pydantic error the reason is made from the :class:`Expect` marker of
the field, so it reads ``expected <thing>, got <value>``.  Every problem
of a file is kept (:func:`all_problems`, :class:`Problems`), in the order
of the file; the error's text is the first one's.
"""

import difflib
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_PROBLEMS",
    "Expect",
    "LineOf",
    "Loc",
    "Problems",
    "ScenarioError",
    "ScenarioWarning",
    "all_problems",
    "dotted",
    "file_order",
    "first_problem",
    "invalid",
    "show",
    "unknown_key",
    "unknown_name",
]

Loc = tuple[str | int, ...]  # where a value is: ("timeline", 2, "emit", "to", 0)
LineOf = Callable[[Loc], int | None]  # the 1-based line of a location in the file
_LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
#: the most problems of one file that are explained; beyond it they are only counted
MAX_PROBLEMS = 200


def _one_line(path: str, reason: str, line: int | None, key: str | None) -> str:
    text = path + (f":{line}" if line is not None else "")
    text += (f": {key}" if key else "") + f": {reason}"
    return _LINE_BREAK.sub(lambda m: repr(m.group())[1:-1], text)


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

    __module__ = "roomsim.scenario"  # its public home: tracebacks and pickles name it so

    def __init__(
        self, path: str, reason: str, line: int | None = None, key: str | None = None
    ) -> None:
        self.path, self.reason, self.line, self.key = str(path), reason, line, key
        self._others: tuple[ScenarioError, ...] = ()
        self.total = 1
        super().__init__(_one_line(self.path, reason, line, key))

    @classmethod
    def of(cls, problems: Iterable["ScenarioError"], total: int = 0) -> "ScenarioError":
        """One error standing for several ``problems`` (in file order), and ``total`` in all.

        Examples
        --------
        >>> two = [ScenarioError("x.yaml", "a", 2), ScenarioError("x.yaml", "b", 5)]
        >>> err = ScenarioError.of(two)
        >>> str(err), [str(p) for p in err.problems], err.total
        ('x.yaml:2: a', ['x.yaml:2: a', 'x.yaml:5: b'], 2)
        """
        first, *others = problems
        err = cls(first.path, first.reason, first.line, first.key)
        err._others = tuple(others)
        err.total = max(total, 1 + len(others))
        return err

    @property
    def problems(self) -> tuple["ScenarioError", ...]:
        """Every problem explained, in the order of the file (this one first).

        ``total`` counts them all, including those beyond :data:`MAX_PROBLEMS`
        that were found but not explained.
        """
        return (self, *self._others)

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"_others": self._others, "total": self.total}
        return type(self), (self.path, self.reason, self.line, self.key), state


class ScenarioWarning(UserWarning):
    """Something legal in a scenario that is most likely a slip, in one line.

    Its text reads as a :class:`ScenarioError`'s: ``"<file>:<line>: <key path>: <reason>"``.
    """

    __module__ = "roomsim.scenario"

    def __init__(
        self, path: str, reason: str, line: int | None = None, key: str | None = None
    ) -> None:
        self.path, self.reason, self.line, self.key = str(path), reason, line, key
        super().__init__(_one_line(self.path, reason, line, key))

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.path, self.reason, self.line, self.key)


class Problems:
    """The problems found across a scenario's parts, collected rather than raised.

    Parameters
    ----------
    collect : bool
        False: the first problem is raised at once (as :func:`invalid`),
        for data validated without a loader.
    renumber : dict, optional
        For a top-level list (``"clients"``) whose broken items were left
        out before these checks: the index in the file of each item checked.
    excused : callable, optional
        Whether a client's name may belong to an item left out (so "unknown
        client" would only echo a problem already said).
    """

    def __init__(
        self,
        collect: bool = True,
        renumber: dict[str, list[int]] | None = None,
        excused: Callable[[str], bool] | None = None,
    ) -> None:
        self.collect = collect
        self.found: list[tuple[Loc, str]] = []
        self.count = 0
        self._renumber = renumber or {}
        self._excused = excused

    def add(self, loc: Loc, reason: str | Callable[[], str]) -> None:
        """Note a problem at ``loc``; ``reason`` may be a function, called only when kept."""
        if not self.collect:
            raise invalid(reason() if callable(reason) else reason, loc)
        self.count += 1
        if len(self.found) < MAX_PROBLEMS:
            if loc and loc[0] in self._renumber and len(loc) > 1 and isinstance(loc[1], int):
                loc = (loc[0], self._renumber[loc[0]][loc[1]], *loc[2:])  # type: ignore[index]
            self.found.append((loc, reason() if callable(reason) else reason))

    def excused(self, name: str) -> bool:
        """Whether an unknown client ``name`` may be one of the items left out."""
        return self._excused is not None and self._excused(name)


class Expect:
    """Annotation marker: what a value must be, in the words of error messages."""

    def __init__(self, what: str) -> None:
        self.what = what


def show(value: Any) -> str:
    """Describe a value in a few plain words for an error message."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float, str)):
        try:
            text = repr(value)
        except ValueError:  # an integer with thousands of digits
            return "a very long number"
        if len(text) <= 40:
            return text
        return text[:36] + "..." + (text[0] if isinstance(value, str) else "")
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return getattr(value, "shown", f"a {type(value).__name__}")


def dotted(loc: Loc) -> str:
    """``("timeline", 2, "emit", "to", 0)`` -> ``"timeline[2].emit.to[0]"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            part = str(part) if len(str(part)) <= 40 else str(part)[:36] + "..."
            text += f".{part}" if text else part
    return text


def invalid(reason: str, sub: Loc = ()) -> PydanticCustomError:
    """An error for a validator to raise; ``sub`` extends the location."""
    shown = f"{dotted(sub)}: {reason}" if sub else reason
    ctx = {"shown": shown, "reason": reason, "sub": sub}
    return PydanticCustomError("roomsim", "{shown}", ctx)


def unknown_key(key: Any, model: type[BaseModel] | None) -> str:
    """The reason for an unknown key of ``model``, with the closest known key."""
    hidden: frozenset[str] = getattr(model, "_not_file_keys", frozenset())
    known = [k for k in _fields(model) if k not in hidden] if model else []
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"unknown key {show(key)} (did you mean {show(close[0])}?)"
    return f"unknown key {show(key)}" + (f" (known keys: {', '.join(known)})" * bool(known))


def unknown_name(what: str, name: str, known: Iterable[str]) -> str:
    """The reason for an unknown client or node ``name``, with the closest known one.

    Examples
    --------
    >>> unknown_name("client", "alcie", ["alice", "bob"])
    "unknown client 'alcie' (did you mean 'alice'?)"
    >>> unknown_name("node", "n9", ["server1"])
    "unknown node 'n9'"
    """
    names = list(known)
    if len(names) > 20_000:  # a million clients of groups: only names much like it
        names = [k for k in names if abs(len(k) - len(name)) <= 2 and k[:1] == name[:1]]
    close = difflib.get_close_matches(name, names[:20_000], n=1)
    hint = f" (did you mean {show(close[0])}?)" if close else ""
    return f"unknown {what} {show(name)}{hint}"


def _untagged(problems: list[tuple[Loc, str]], data: Any) -> list[tuple[Loc, str]]:
    """``costs`` is a mapping or a name: keep the problems of the branch given,
    without pydantic's union tag in their location."""
    given = data.get("costs") if isinstance(data, dict) else None
    branch = "CostsSpec" if isinstance(given, dict) else "str"
    out = []
    for loc, why in problems:
        if len(loc) > 1 and loc[0] == "costs" and loc[1] in ("CostsSpec", "str"):
            if loc[1] != branch:
                continue
            loc = (loc[0], *loc[2:])
        out.append((loc, why))
    return out or problems


def first_problem(
    exc: ValidationError, data: Any, path: str, line_of: LineOf, root: type[BaseModel]
) -> ScenarioError:
    """The problem of ``exc`` met first in the file, as a :class:`ScenarioError`.

    Parameters
    ----------
    exc : pydantic.ValidationError
        What validating ``data`` as a ``root`` raised.
    data : Any
        The data that was validated, in the file's order.
    path : str
        The file name shown in the error.
    line_of : callable
        The line of a location in the file, or None.
    root : type
        The model ``data`` was validated as.

    Returns
    -------
    ScenarioError
    """
    loc, reason = all_problems(exc, data, root)[0]
    return ScenarioError(path, reason, line_of(loc), dotted(loc) or None)


def all_problems(exc: ValidationError, data: Any, root: type[BaseModel]) -> list[tuple[Loc, str]]:
    """Every problem of ``exc``: its location and reason, in the order of the file.

    One problem per location (the first pydantic gives), and no "missing
    key" beside an unknown key of the same mapping (``nod`` explains the
    missing ``node``).
    """
    problems = _untagged([_explain(e, root) for e in exc.errors(include_url=False)], data)
    unknown_in = {loc[:-1] for loc, why in problems if why.startswith("unknown key")}
    seen: set[Loc] = set()
    kept = []
    for loc, why in problems:
        if loc in seen or (why.startswith("missing key") and loc[:-1] in unknown_in):
            continue
        seen.add(loc)
        kept.append((loc, why))
    kept.sort(key=lambda problem: file_order(data, problem[0]))
    return kept


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


def _hint_at(root: type[BaseModel], loc: Loc) -> tuple[Any, tuple[Any, ...]]:
    """The type found at ``loc`` from ``root``, and its metadata."""
    hint: Any = root
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


def _explain(error: Any, root: type[BaseModel]) -> tuple[Loc, str]:
    """The location and the plain-words reason of one pydantic error."""
    loc, kind, got = tuple(error["loc"]), error["type"], error.get("input")
    if kind == "roomsim":
        return loc + tuple(error["ctx"]["sub"]), error["ctx"]["reason"]
    if kind == "extra_forbidden":
        return loc, unknown_key(loc[-1], _model_in(_hint_at(root, loc[:-1])[0]))
    if kind == "missing":
        return loc, f"missing key {show(loc[-1])}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {show(got)}"
    for mark in _hint_at(root, loc)[1]:
        if isinstance(mark, Expect):
            return loc, f"expected {mark.what}, got {show(got)}"
    message = error["msg"].removeprefix("Value error, ")
    return loc, f"{message[:1].lower()}{message[1:]} (got {show(got)})"


def file_order(data: Any, loc: Loc) -> tuple[int, ...]:
    """A sort key putting locations in the order of the file.

    Examples
    --------
    >>> data = {"cluster": {"nodes": 1}, "timeline": [{"at": 1}, {"at": -1}]}
    >>> file_order(data, ("timeline", 1, "at")) > file_order(data, ("cluster", "nodes"))
    True
    """
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
