"""Solutions to notebook 09 (failures: a crash, a broker outage), and wrong answers."""

SOLUTIONS = {
    "09.1": {
        "m1": {"ann", "cat", "eve"},
        "m2": {"ann", "cat", "eve"},
        "m3": {"ann", "ben", "cat", "dan", "eve"},
    },
    "09.2": 4,
}

_EVERYONE = {"ann", "ben", "cat", "dan", "eve"}

WRONG = {
    "09.1": [
        # a copy reaching a dead node still gets picked, and a reconnected client is back
        # in its rooms
        ("mistake", {"m1": _EVERYONE, "m2": _EVERYONE, "m3": _EVERYONE}),
        # right for m1, but the reconnected clients back in ops
        ("mistake", {"m1": {"ann", "cat", "eve"}, "m2": _EVERYONE, "m3": _EVERYONE}),
        # thinks io.emit misses the new sockets too
        (
            "mistake",
            {"m1": {"ann", "cat", "eve"}, "m2": {"ann", "cat", "eve"}, "m3": {"ann", "cat", "eve"}},
        ),
        ("type", [{"ann"}, {"ann"}, {"ann"}]),
        ("type", {"m1": "ann", "m2": {"ann"}, "m3": {"ann"}}),
    ],
    "09.2": [
        # every member of ops and dev loses the message in flight when the broker stops,
        # the emitting node's own included (local delivery goes on)
        ("mistake", 7),
        ("mistake", 6),  # io.local counted as crossing the broker
        ("mistake", 4.5),
        ("type", "4"),
    ],
}
