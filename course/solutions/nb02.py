"""Solutions to notebook 02's exercises, and wrong answers the tests expect to fail."""

SOLUTIONS = {
    "02.1": {"alice", "bob", "erin"},
    "02.2": 4,
}

WRONG = {
    "02.1": [
        # carol kept: the mistake of thinking a member of a target room is never excluded
        ("mistake", {"alice", "bob", "carol", "erin"}),
        # the intersection of a and b instead of the union
        ("mistake", {"bob"}),
        # dave and frank too: except_ read as "send to c as well"
        ("mistake", {"alice", "bob", "carol", "dave", "erin"}),
        # one name as a string
        ("type", "alice"),
        # a count, not names
        ("type", 3),
    ],
    "02.2": [
        # 5: the mistake of thinking op.to("b") changed op (the operator is immutable)
        ("mistake", 5),
        # 6: a socket in two target rooms (or a room named twice) counted twice
        ("mistake", 6),
        # 2.9 must not be truncated to 2 and accepted as some other count
        ("mistake", 4.5),
        ("type", "4"),
        ("type", None),
    ],
}
