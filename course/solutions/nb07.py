"""Solutions to notebook 07 (several nodes, the classic Redis adapter), and wrong answers."""

SOLUTIONS = {
    "07.1": {"alice", "bob", "erin"},
    "07.2": {"handed_out": 5, "thrown_away": 4},
}

WRONG = {
    "07.1": [
        ("mistake", {"alice", "bob", "dave"}),  # every node choosing at the emit (t=10)
        ("mistake", {"alice", "bob", "carol", "erin", "frank"}),  # every join before arrival
        ("mistake", {"alice", "bob", "carol", "erin"}),  # n2 choosing when the copy comes back
        ("type", "alice, bob, erin"),
    ],
    "07.2": [
        ("mistake", {"handed_out": 4, "thrown_away": 3}),  # no copy back to the publisher
        ("mistake", {"handed_out": 1, "thrown_away": 0}),  # only the room's node gets one
        ("mistake", {"handed_out": 5.0, "thrown_away": 3}),  # 5.0 is 5; 3 is the mistake
        ("type", {"handed_out": 5, "thrown_away": 3.9}),  # 3.9 is not truncated to 3
        ("type", (5, 4)),
    ],
}
