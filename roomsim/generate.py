"""Write large scenarios: many clients declared as a group, many emits.

``roomsim generate`` (and :func:`generate_scenario`) make the kind of
scenario engineers size a deployment with: ``clients`` spread over ``nodes``,
each in a few of ``rooms`` rooms, then single-room broadcasts and
whole-namespace broadcasts.  The result is a plain scenario mapping: write
it as JSON (fast to read back) or YAML.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from roomsim.ids import rng

__all__ = ["expected_deliveries", "generate_scenario", "write_scenario"]


def generate_scenario(
    *,
    clients: int = 1000,
    nodes: int = 4,
    adapter: str | None = None,
    rooms: int = 100,
    rooms_per_client: tuple[int, int] = (1, 3),
    room_emits: int = 100,
    broadcasts: int = 1,
    client_ms: float = 5.0,
    adapter_ms: float = 1.0,
    spacing_ms: float = 1.0,
    seed: int = 0,
    name: str | None = None,
) -> dict[str, Any]:
    """A scenario with one client group, ``room_emits`` room emits and ``broadcasts``.

    Room emits go to a room chosen at random (from the seeded stream
    ``generate:emits``) from the nodes in turn, ``spacing_ms`` apart; the
    whole-namespace broadcasts follow.

    Examples
    --------
    >>> sc = generate_scenario(clients=10, nodes=2, rooms=3, room_emits=2, broadcasts=1)
    >>> sc["cluster"], sc["groups"][0]["count"], len(sc["timeline"])
    ({'nodes': 2, 'adapter': 'redis'}, 10, 3)
    >>> sc["timeline"][0]["emit"]["to"][0].startswith("room")
    True
    """
    if adapter is None:
        adapter = "memory" if nodes == 1 else "redis"
    lo, hi = rooms_per_client
    stream = rng(seed, "generate:emits")
    timeline: list[dict[str, Any]] = []
    t = 10.0
    for k in range(room_emits):
        room = f"room{stream.randrange(rooms) + 1}"
        emit = {"id": f"r{k + 1}", "from": f"n{k % nodes + 1}", "to": [room], "event": "news"}
        timeline.append({"at": t, "emit": emit})
        t += spacing_ms
    for k in range(broadcasts):
        emit = {"id": f"b{k + 1}", "from": f"n{k % nodes + 1}", "event": "announcement"}
        timeline.append({"at": t, "emit": emit})
        t += spacing_ms
    return {
        "name": name or f"{clients} clients on {nodes} nodes ({adapter})",
        "seed": seed,
        "cluster": {"nodes": nodes, "adapter": adapter},
        "latency": {"client_ms": client_ms, "adapter_ms": adapter_ms},
        "groups": [
            {
                "prefix": "user",
                "count": clients,
                "rooms": {"prefix": "room", "count": rooms, "per_client": [lo, hi]},
            }
        ],
        "timeline": timeline,
    }


def expected_deliveries(
    clients: int, rooms: int, rooms_per_client: tuple[int, int], room_emits: int, broadcasts: int
) -> float:
    """About how many deliveries such a scenario makes (for choosing its size).

    Examples
    --------
    >>> expected_deliveries(100_000, 1000, (1, 3), 3000, 4)
    1000000.0
    """
    members_per_room = clients * (sum(rooms_per_client) / 2) / rooms
    return room_emits * members_per_room + broadcasts * clients


def write_scenario(scenario: dict[str, Any], path: str | Path) -> Path:
    """Write ``scenario`` as JSON (``.json``) or YAML (anything else), whole or not at all.

    Written as :class:`roomsim.outputs.Output` writes every output (``-`` is
    standard output; a regular file is replaced only once it is complete).
    """
    from roomsim.outputs import Output

    path = Path(path)
    if path.suffix == ".json":
        text = json.dumps(scenario, separators=(",", ":")) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(scenario, sort_keys=False)
    with Output(path, "scenario") as out:
        out.file.write(text)
    return path
