"""Solutions to notebook 06 (disconnection), and a wrong answer for each."""

SOLUTIONS = {
    "06.1": {"lobby", "game:2"},
    "06.2": {"received": {"m1", "m5"}, "dropped": {"m2", "m3"}},
}

WRONG = {
    "06.1": {"lobby", "game:1"},  # thinks the disconnection overtakes the earlier "switch game"
    "06.2": {"received": {"m1", "m5"}, "dropped": {"m2"}},  # thinks the server stops writing
    # to bob as soon as he closes his side (m3 was written before it heard, and was dropped)
}
