"""Warnings: what a valid scenario gives that is most likely a slip.

Emitting to a room nobody joins is legal in Socket.IO (nobody gets the
message), and so are leaving it and leaving it out (``except``), so a
misspelt room is not an error; but a room that no client ever joins, whose
name is close to one that is joined, is most likely a typo, and
:func:`room_warnings` says so with the closest joined room (unless the two
differ in their digits only: ``room3`` beside ``room2`` is on purpose).
"""

import difflib
import re

from roomsim.scenario.document import Scenario
from roomsim.scenario.errors import MAX_PROBLEMS, LineOf, Loc, ScenarioWarning, dotted, show
from roomsim.scenario.models import ConnectStep, JoinStep, LeaveStep, SocketsJoinStep, _Targeted

__all__ = ["room_warnings"]

_MAX_CANDIDATES = 20_000  # rooms compared with a misspelt one, at most


def joined_rooms(sc: Scenario) -> set[str]:
    """Every room a declared client, or a step, ever joins (groups' rooms aside).

    Examples
    --------
    >>> sc = Scenario.model_validate({
    ...     "cluster": {"nodes": 1},
    ...     "clients": [{"name": "a", "node": "n1", "rooms": ["lobby"]}],
    ...     "timeline": [{"at": 1, "join": {"client": "a", "rooms": ["desk"]}}],
    ... })
    >>> sorted(joined_rooms(sc))
    ['desk', 'lobby']
    """
    rooms: set[str] = set()
    for client in sc.clients:
        rooms.update(client.rooms)
    for step in sc.timeline:
        body = step.body
        if isinstance(body, (JoinStep, ConnectStep, SocketsJoinStep)):
            rooms.update(body.rooms)
    return rooms


def room_warnings(sc: Scenario, path: str, line_of: LineOf) -> list[ScenarioWarning]:
    """A warning for each room nobody joins that is close to a joined room.

    The rooms looked at are those a step names without joining them: the
    ``to`` and ``except`` of an emit (and of the other steps that pick
    sockets), and the rooms of a ``leave``.

    Parameters
    ----------
    sc : Scenario
        A validated scenario.
    path : str
        The file name shown.
    line_of : callable
        The line of a location in the file.

    Returns
    -------
    list of ScenarioWarning
        In line order, at most :data:`~roomsim.scenario.errors.MAX_PROBLEMS`.

    Examples
    --------
    >>> sc = Scenario.model_validate({
    ...     "cluster": {"nodes": 1},
    ...     "clients": [{"name": "a", "node": "n1", "rooms": ["lobby"]}],
    ...     "timeline": [{"at": 1, "emit": {"from": "n1", "to": "lobyy"}}],
    ... })
    >>> [str(w) for w in room_warnings(sc, "x.yaml", lambda loc: None)]
    ["x.yaml: timeline[0].emit.to: no client ever joins room 'lobyy' (did you mean 'lobby'?)"]
    """
    joined = joined_rooms(sc)
    candidates = sorted(joined)[:_MAX_CANDIDATES]
    names = {client.name for client in sc.clients} | set(sc.cluster.nodes)
    close: dict[str, str | None] = {}
    found: list[tuple[Loc, str]] = []
    for i, step in enumerate(sc.timeline):
        body = step.body
        if isinstance(body, _Targeted):
            lists = [("to", body.to or []), ("except", body.except_)]
        elif isinstance(body, LeaveStep):
            lists = [("rooms", body.rooms)]
        else:
            continue
        for key, rooms in lists:
            for j, room in enumerate(rooms):
                if room in joined or room in names or _of_a_group(sc, room):
                    continue
                if room not in close:
                    match = difflib.get_close_matches(room, candidates, n=1)
                    close[room] = (
                        match[0] if match and not _numbered_alike(room, match[0]) else None
                    )
                if close[room] is None:
                    continue
                loc: Loc = ("timeline", i, step.action, key)
                if len(rooms) > 1:
                    loc += (j,)
                reason = (
                    f"no client ever joins room {show(room)} (did you mean {show(close[room])}?)"
                )
                found.append((loc, reason))
        if len(found) >= MAX_PROBLEMS:
            break
    warnings = [ScenarioWarning(path, why, line_of(loc), dotted(loc)) for loc, why in found]
    warnings.sort(key=lambda w: w.line or 0)
    return warnings


def _numbered_alike(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ in their digits only (``room3``, ``room2``): rooms
    numbered on purpose, not a slip.

    Examples
    --------
    >>> _numbered_alike("room3", "room2"), _numbered_alike("game:12", "game:1")
    (True, True)
    >>> _numbered_alike("lobyy", "lobby"), _numbered_alike("rom2", "room2")
    (False, False)
    """
    return a.strip("0123456789") == b.strip("0123456789") or (
        re.sub(r"\d+", "#", a) == re.sub(r"\d+", "#", b)
    )


def _of_a_group(sc: Scenario, name: str) -> bool:
    """Whether ``name`` is a room of a group's rule, or a client of a group."""
    return any(
        group.has_client(name) or (group.rooms is not None and group.rooms.has_room(name))
        for group in sc.groups
    )
