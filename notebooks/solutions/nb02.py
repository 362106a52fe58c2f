"""Solutions to notebook 02's exercises, and wrong answers the tests expect to fail."""

SOLUTIONS = {
    "02.1": {"alice", "bob", "erin"},
    "02.2": 4,
}

WRONG = {
    # carol kept: the mistake of thinking a member of a target room is never excluded
    "02.1": {"alice", "bob", "carol", "erin"},
    # 5: the mistake of thinking op.to("b") changed op (the operator is immutable)
    "02.2": 5,
}
