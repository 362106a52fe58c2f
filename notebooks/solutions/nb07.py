"""Solutions to notebook 07 (several nodes, the classic Redis adapter), and wrong answers."""

SOLUTIONS = {
    "07.1": {"alice", "bob", "erin"},
    "07.2": {"handed_out": 5, "thrown_away": 4},
}

WRONG = {
    "07.1": {"alice", "bob", "dave"},  # every node choosing its recipients at the emit (t=10)
    "07.2": {"handed_out": 4, "thrown_away": 3},  # thinks the publisher gets no copy back
}
