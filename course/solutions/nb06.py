"""Solutions to notebook 06 (disconnection), and wrong answers for each."""

SOLUTIONS = {
    "06.1": {"lobby", "game:2"},
    "06.2": {"received": {"m1", "m5"}, "dropped": {"m2", "m3"}},
}

WRONG = {
    "06.1": [
        # thinks the disconnection overtakes the earlier "switch game"
        ("mistake", {"lobby", "game:1"}),
        # thinks `disconnecting` runs after the socket has left its rooms
        ("mistake", set()),
        # thinks the switch joins before leaving, and both show
        ("mistake", {"lobby", "game:1", "game:2"}),
        ("type", "lobby"),
    ],
    "06.2": [
        # thinks the server stops writing as soon as bob closes his side (m3 was written
        # before the server heard, and was dropped)
        ("mistake", {"received": {"m1", "m5"}, "dropped": {"m2"}}),
        # thinks the new socket is back in chat (m6)
        ("mistake", {"received": {"m1", "m5", "m6"}, "dropped": {"m2", "m3"}}),
        # thinks m2, in flight when he closed, still arrives
        ("mistake", {"received": {"m1", "m2", "m5"}, "dropped": {"m3"}}),
        ("type", ["m1", "m5"]),
        ("type", {"received": "m1 m5", "dropped": {"m2", "m3"}}),
    ],
}
