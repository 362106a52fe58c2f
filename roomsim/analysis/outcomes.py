"""Who got what: the fate of every (message, client) pair of a trace."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import roomsim.vocabulary as vocab

__all__ = ["OUTCOMES", "outcome_table"]

#: The fates a (message, client) pair can have, in drawing order.
OUTCOMES = ("not targeted", "delivered", "dropped")


def outcome_table(
    records: Iterable[dict[str, Any]],
) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """Messages (in emit order), clients (in connection order) and each pair's fate.

    Pairs that are not in the table were not targeted.

    Examples
    --------
    >>> records = [
    ...     {"t": 0, "kind": "connect", "client": "alice", "node": "n1", "sid": "s1"},
    ...     {"t": 0, "kind": "connect", "client": "bob", "node": "n1", "sid": "s2"},
    ...     {"t": 1, "kind": "emit", "msg": "m1", "node": "n1", "event": "e"},
    ...     {"t": 2, "kind": "deliver", "msg": "m1", "client": "bob", "node": "n1", "event": "e"},
    ...     {"t": 2, "kind": "drop", "msg": "m1", "client": "alice", "reason": "disconnected"},
    ... ]
    >>> outcome_table(records)
    (['m1'], ['alice', 'bob'], {('m1', 'bob'): 'delivered', ('m1', 'alice'): 'dropped'})
    """
    msgs: dict[str, None] = {}
    clients: dict[str, None] = {}
    fate: dict[tuple[str, str], str] = {}
    for rec in records:
        kind = rec["kind"]
        if kind == vocab.CONNECT:
            clients[rec["client"]] = None
        elif kind == vocab.EMIT:
            msgs[rec["msg"]] = None
        elif kind == vocab.DELIVER:
            fate[(rec["msg"], rec["client"])] = "delivered"
        elif kind == vocab.DROP and "client" in rec and rec["msg"] in msgs:
            fate.setdefault((rec["msg"], rec["client"]), "dropped")
    return list(msgs), list(clients), fate
