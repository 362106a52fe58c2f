"""Cost profiles: what each piece of a node's work, and the broker's, costs.

A profile is plain data (times in ms, per item or per byte).  Node event
loops (:mod:`roomsim.loop`) charge it; the broker's two entries set its own
queue.  ``load_profile("default")`` is the profile shipped with roomsim,
measured on a 2-core machine running three Node.js Socket.IO processes and
Redis (``roomsim/profiles/default.yaml``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = ["ENTRIES", "SHARED", "CostProfile", "load_profile"]

#: every entry of a profile: (name, unit, meaning)
ENTRIES: tuple[tuple[str, str, str], ...] = (
    ("packet_ms", "ms per packet", "a client packet received: decoding it, running its handler"),
    ("packet_byte_ms", "ms per byte", "decoding a client packet, per byte"),
    ("emit_ms", "ms per broadcast", "an emit: room lookup and encoding, once per broadcast"),
    ("emit_byte_ms", "ms per byte", "encoding an emitted packet, per byte, once per broadcast"),
    ("write_ms", "ms per socket", "one frame written to one recipient socket"),
    ("write_byte_ms", "ms per byte", "writing a frame, per byte, per recipient socket"),
    (
        "message_ms",
        "ms per message",
        "a broker message received and decoded (even one thrown away)",
    ),
    ("message_byte_ms", "ms per byte", "decoding a broker message, per byte"),
    ("connect_ms", "ms per connection", "a connection and its handshake"),
    ("join_ms", "ms per room", "a join or a leave of one room"),
    ("ack_ms", "ms per answer", "an acknowledgement received from a client"),
    ("flush_ms", "ms", "the loop hands written frames to the network at least every flush_ms"),
    ("publish_ms", "ms per message", "the broker's time per message published"),
    ("copy_ms", "ms per copy", "the broker's time per copy it hands to a subscriber"),
    (
        "cores",
        "cores",
        "the CPU cores all nodes (and their clients) share; 0: each node has a core of its own",
    ),
    (
        "receive_ms",
        "ms per delivery",
        "a client's work receiving a frame, on the shared cores (only with cores > 0)",
    ),
    (
        "busy_factor",
        "fraction",
        "with cores > 0: what is left of the write, receive and broker-message costs while"
        " a loop has been busy for busy_after_ms (writes and reads coalesce under sustained"
        " load)",
    ),
    ("busy_after_ms", "ms", "how long a loop is busy before busy_factor applies"),
    (
        "sched_ms",
        "ms",
        "with cores > 0: the mean wait of a loop that wakes up while every core is taken"
        " (the rest of another process's time slice); the chance of waiting is Erlang C"
        " of the cores' recent utilisation",
    ),
)

#: entries that only mean something with ``cores`` > 0
SHARED = ("cores", "receive_ms", "busy_factor", "busy_after_ms", "sched_ms")


@dataclass(frozen=True)
class CostProfile:
    """The time each work item takes, in ms (``_byte_ms``: per byte of it).

    Examples
    --------
    >>> p = CostProfile(write_ms=0.01, write_byte_ms=0.0001)
    >>> round(p.write_cost(100), 6)
    0.02
    >>> CostProfile().ideal
    True
    """

    packet_ms: float = 0.0
    packet_byte_ms: float = 0.0
    emit_ms: float = 0.0
    emit_byte_ms: float = 0.0
    write_ms: float = 0.0
    write_byte_ms: float = 0.0
    message_ms: float = 0.0
    message_byte_ms: float = 0.0
    connect_ms: float = 0.0
    join_ms: float = 0.0
    ack_ms: float = 0.0
    flush_ms: float = 0.1
    publish_ms: float = 0.0
    copy_ms: float = 0.0
    cores: float = 0.0
    receive_ms: float = 0.0
    busy_factor: float = 1.0
    busy_after_ms: float = 50.0
    sched_ms: float = 0.0
    #: where it was measured (CPU, cores, Node and Redis versions), free text
    machine: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ideal(self) -> bool:
        """True when no node work costs anything (the broker's entries aside)."""
        return not any(
            getattr(self, name)
            for name, _, _ in ENTRIES
            if name not in ("flush_ms", "publish_ms", "copy_ms", *SHARED)
        )

    def emit_cost(self, size: int) -> float:
        """An emit of a packet of ``size`` bytes."""
        return self.emit_ms + size * self.emit_byte_ms

    def write_cost(self, size: int) -> float:
        """One frame of ``size`` bytes written to one socket."""
        return self.write_ms + size * self.write_byte_ms

    def message_cost(self, size: int) -> float:
        """One broker message of ``size`` bytes received and decoded."""
        return self.message_ms + size * self.message_byte_ms

    def packet_cost(self, size: int) -> float:
        """One client packet of ``size`` bytes received and handled."""
        return self.packet_ms + size * self.packet_byte_ms

    def as_dict(self) -> dict[str, Any]:
        """The profile as a plain mapping (what a profile file holds; the entries of
        :data:`SHARED` only when ``cores`` is set)."""
        out = {
            name: getattr(self, name) for name, _, _ in ENTRIES if self.cores or name not in SHARED
        }
        if self.machine:
            out["machine"] = dict(self.machine)
        return out

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> CostProfile:
        """A profile from a mapping of entries (unknown names raise ``ValueError``)."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown cost entry {key!r}")
            if key != "machine" and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
            ):
                raise ValueError(f"{key}: expected a time in ms (a number >= 0), got {value!r}")
        entries: dict[str, Any] = {
            k: (float(v) if k != "machine" else dict(v or {})) for k, v in data.items()
        }
        return cls(**entries)


def load_profile(spec: str | os.PathLike[str] | dict[str, Any]) -> CostProfile:
    """A profile: ``"default"``, a YAML file's path, or a mapping of entries.

    Examples
    --------
    >>> load_profile("default").write_ms > 0
    True
    >>> load_profile({"emit_ms": 0.5}).emit_ms
    0.5
    """
    if isinstance(spec, dict):
        return CostProfile.from_mapping(spec)
    import yaml

    if str(spec) == "default":
        text = resources.files("roomsim.profiles").joinpath("default.yaml").read_text()
    else:
        with open(spec, encoding="utf-8") as f:
            text = f.read()
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError("a cost profile is a mapping of entries")
    return CostProfile.from_mapping(data)
