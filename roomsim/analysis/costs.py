"""What fan-out costs, message by message: published, received, discarded, delivered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.trace import discarded

__all__ = ["emit_costs"]


def emit_costs(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per emitted message, in emit order.

    ``published`` (messages its node handed the broker), ``bytes``,
    ``received`` (copies the broker handed to nodes, the emitter's own echo
    included), ``discarded`` (copies thrown away: the echo, a room the node
    lacks, or no local recipient), ``useful_fraction`` and ``deliveries``.

    Examples
    --------
    >>> records = [
    ...     {"t": 0, "kind": "emit", "msg": "m1", "node": "n1", "event": "e"},
    ...     {"t": 0, "kind": "publish", "msg": "m1", "node": "n1", "channel": "c", "bytes": 40},
    ...     {"t": 1, "kind": "relay", "msg": "m1", "node": "n1", "channel": "c", "targets": 0,
    ...      "ignored": "own message"},
    ...     {"t": 1, "kind": "relay", "msg": "m1", "node": "n2", "channel": "c", "targets": 3},
    ...     {"t": 2, "kind": "deliver", "msg": "m1", "client": "a", "node": "n2", "event": "e"},
    ... ]
    >>> emit_costs(records)  # doctest: +NORMALIZE_WHITESPACE
    [{'msg': 'm1', 'node': 'n1', 'published': 1, 'bytes': 40, 'received': 2, 'discarded': 1,
      'useful_fraction': 0.5, 'deliveries': 1}]
    """
    rows: dict[str, dict[str, Any]] = {}
    for rec in records:
        kind = rec["kind"]
        if kind == vocab.EMIT:
            rows[rec["msg"]] = {
                "msg": rec["msg"],
                "node": rec["node"],
                "published": 0,
                "bytes": 0,
                "received": 0,
                "discarded": 0,
                "useful_fraction": 1.0,
                "deliveries": 0,
            }
            continue
        row = rows.get(rec.get("msg"))  # type: ignore[arg-type]
        if row is None:
            continue
        if kind == vocab.PUBLISH:
            row["published"] += 1
            row["bytes"] += rec.get("bytes", 0)
        elif kind == vocab.RELAY:
            row["received"] += 1
            if discarded(rec):
                row["discarded"] += 1
        elif kind == vocab.DELIVER:
            row["deliveries"] += 1
    for row in rows.values():
        if row["received"]:
            row["useful_fraction"] = (row["received"] - row["discarded"]) / row["received"]
    return list(rows.values())
