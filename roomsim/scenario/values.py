"""The values of a scenario file: names, times, namespaces, JSON data.

Each type is an ``Annotated`` pydantic type carrying an :class:`Expect`
marker, so a wrong value is refused as ``expected <thing>, got <value>``.
"""

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

from roomsim.scenario.errors import Expect, invalid, show

__all__ = [
    "A_NAME",
    "A_NAMESPACE",
    "DISCONNECT_REASONS",
    "MAX_MS",
    "MAX_NODES",
    "MAX_SIGMA",
    "NAME_PATTERN",
    "RESERVED_EVENTS",
    "Flag",
    "JsonData",
    "Latency",
    "Ms",
    "Name",
    "Names",
    "Namespace",
    "NodeNames",
    "Probability",
    "Seed",
    "SomeNames",
    "Targets",
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
MAX_NODES = 10_000
#: the longest time a scenario may give, in ms (about 31.7 years): sums of times stay exact
#: to the microsecond and can never overflow to infinity
MAX_MS = 1e12
#: the largest sigma of a lognormal latency: larger ones make draws overflow
MAX_SIGMA = 10.0

_NAME = re.compile(NAME_PATTERN)


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


def _at_most_max_ms(value: float) -> float:
    if value > MAX_MS:
        raise invalid(
            f"expected a time in ms of at most {MAX_MS:.0e} (about 31 years), got {show(value)}"
        )
    return value


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
            raise invalid(f"expected {what}, got {show(item)}")
    return value


A_NAME = "a name (letters, digits, _ - : .)"
A_NAMESPACE = "a namespace ('/' or '/' followed by a name)"
_NAMES = "a name or a list of names"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN), Expect(A_NAME)]
Names = Annotated[list[Name], BeforeValidator(_listed), Expect(_NAMES)]
#: rooms of a join or leave: an empty list is allowed and changes nothing, as in Socket.IO
SomeNames = Annotated[list[Name], BeforeValidator(_listed), Expect(_NAMES)]
NodeNames = Annotated[
    list[Name],
    BeforeValidator(_numbered_nodes),
    Field(min_length=1),
    Expect(f"a list of node names or a number of nodes from 1 to {MAX_NODES}"),
]
#: ``to``: absent (None) or a list; ``to: []`` adds no room, so it means everyone,
#: as ``io.to([])`` does in Socket.IO
Targets = Annotated[
    list[Name] | None,
    BeforeValidator(_listed_given),
    Expect("a name or a list of names"),
]
Ms = Annotated[
    float,
    Strict(),
    Field(ge=0, allow_inf_nan=False),
    AfterValidator(_at_most_max_ms),
    Expect("a time in ms (a number >= 0)"),
]
Flag = Annotated[bool, Strict(), Expect("true or false")]
Namespace = Annotated[
    str,
    BeforeValidator(_namespace),
    Expect(A_NAMESPACE),
]
Seed = Annotated[Annotated[int, Strict()] | None, Expect("a whole number")]
JsonData = Annotated[Any, AfterValidator(_json_data)]


def _latency(value: Any) -> Any:
    from roomsim.latency import delay

    if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
        raise invalid(f"expected {A_LATENCY}, got {show(value)}")
    try:
        d = delay(value)
    except (ValueError, TypeError, KeyError, OverflowError):
        raise invalid(f"expected {A_LATENCY}, got {show(value)}") from None
    if d.kind == "constant":
        _bounded_latency(d.a, value, ())
    else:
        params = value[d.kind] if isinstance(value, dict) else None
        if d.kind == "uniform":
            _bounded_latency(d.a, params[0], (d.kind, 0))  # type: ignore[index]
            _bounded_latency(d.b, params[1], (d.kind, 1))  # type: ignore[index]
        elif d.kind == "exponential":
            _bounded_latency(d.a, params, (d.kind,))
        else:
            _bounded_latency(d.a, params["median"], (d.kind, "median"))  # type: ignore[index]
            if not (math.isfinite(d.b) and d.b <= MAX_SIGMA):
                reason = f"expected a sigma of at most {MAX_SIGMA:g}"
                reason += f" (a larger one makes latencies overflow), got {show(d.b)}"
                raise invalid(reason, (d.kind, "sigma"))
    return value


def _bounded_latency(ms: float, given: Any, sub: tuple[str | int, ...]) -> None:
    """Refuse a latency parameter that is not a finite number of ms up to :data:`MAX_MS`."""
    if not (math.isfinite(ms) and ms <= MAX_MS):
        raise invalid(f"expected a latency in ms from 0 to {MAX_MS:.0e}, got {show(given)}", sub)


A_LATENCY = (
    "a latency in ms (a number >= 0, {uniform: [low, high]}, {exponential: mean}"
    " or {lognormal: {median: m, sigma: s}})"
)
#: a latency: a constant number of ms, or a distribution (see roomsim.latency)
Latency = Annotated[Any, AfterValidator(_latency)]
Probability = Annotated[
    float, Strict(), Field(ge=0, le=1, allow_inf_nan=False), Expect("a probability from 0 to 1")
]
