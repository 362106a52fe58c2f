"""Latency distributions in ms: constant, uniform, exponential, lognormal.

Each link draws from its own seeded stream (see :func:`roomsim.ids.rng`), so
adding a client never changes another client's latencies.

Examples
--------
>>> import random
>>> delay(5).sample(random.Random(0)), delay(5).constant
(5.0, 5.0)
>>> d = delay({"uniform": [1, 3]})
>>> 1 <= d.sample(random.Random(0)) <= 3, d.constant, d.mean
(True, None, 2.0)
>>> delay({"lognormal": {"median": 10, "sigma": 0.5}}).mean > 10
True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Delay", "delay", "halved"]

KINDS = ("constant", "uniform", "exponential", "lognormal")


@dataclass(frozen=True)
class Delay:
    """A latency distribution: ``kind`` and its parameters (all in ms).

    ``constant`` (``value``), ``uniform`` (``low``, ``high``), ``exponential``
    (``mean``), ``lognormal`` (``median``, ``sigma`` of the underlying normal).
    """

    kind: str
    a: float
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown latency kind {self.kind!r}; expected one of {KINDS}")
        if self.a < 0 or self.b < 0 or (self.kind == "uniform" and self.b < self.a):
            raise ValueError(f"bad {self.kind} latency parameters {self.a}, {self.b}")

    @property
    def constant(self) -> float | None:
        """The value, when the latency is constant; else None."""
        return self.a if self.kind == "constant" else None

    @property
    def mean(self) -> float:
        """The mean latency, in ms."""
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        if self.kind == "lognormal":
            return self.a * math.exp(self.b**2 / 2)
        return self.a

    def sample(self, stream: random.Random) -> float:
        """One latency, drawn from ``stream``."""
        kind = self.kind
        if kind == "constant":
            return self.a
        if kind == "uniform":
            return stream.uniform(self.a, self.b)
        if kind == "exponential":
            return stream.expovariate(1 / self.a) if self.a else 0.0
        return stream.lognormvariate(math.log(self.a), self.b) if self.a else 0.0

    def describe(self) -> Any:
        """The form a scenario file uses for this latency."""
        if self.kind == "constant":
            return self.a
        if self.kind == "uniform":
            return {"uniform": [self.a, self.b]}
        if self.kind == "exponential":
            return {"exponential": self.a}
        return {"lognormal": {"median": self.a, "sigma": self.b}}


def halved(d: Delay) -> Delay:
    """The same distribution, half as long (one hop of a two-hop trip).

    Examples
    --------
    >>> halved(delay(4)), halved(delay({"uniform": [2, 6]})).mean
    (Delay(kind='constant', a=2.0, b=0.0), 2.0)
    """
    if d.kind == "lognormal":
        return Delay(d.kind, d.a / 2, d.b)
    return Delay(d.kind, d.a / 2, d.b / 2)


def delay(spec: Any) -> Delay:
    """A :class:`Delay` from a number or a one-key mapping, as scenario files write it."""
    if isinstance(spec, Delay):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Delay("constant", float(spec))
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, params),) = spec.items()
        if kind == "constant":
            return Delay("constant", float(params))
        if kind == "uniform":
            low, high = params
            return Delay("uniform", float(low), float(high))
        if kind == "exponential":
            return Delay("exponential", float(params))
        if kind == "lognormal":
            return Delay("lognormal", float(params["median"]), float(params["sigma"]))
    raise ValueError(
        f"expected a latency in ms: a number, {{uniform: [low, high]}}, {{exponential: mean}}"
        f" or {{lognormal: {{median: m, sigma: s}}}}, got {spec!r}"
    )
