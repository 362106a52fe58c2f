"""``delay_until`` gives the smallest delay that reaches an instant, fast.

Rule: for ``at > now`` the delay ``d`` reaches ``at`` (``now + d >= at`` in
floating point) and the float just below ``d`` does not; even when ``now``
is a million times ``d`` and a thousand floats near ``d`` all reach the same
instant (the case a long run has at every hop).
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from roomsim._sched import delay_until

times = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
gaps = st.floats(min_value=0, max_value=1e3, allow_nan=False, allow_infinity=False)


@given(times, gaps)
def test_the_delay_is_the_smallest_that_reaches_the_instant(now: float, gap: float) -> None:
    at = now + gap
    d = delay_until(now, at)
    if at <= now:
        assert d == 0.0
    else:
        assert now + d >= at
        assert now + math.nextafter(d, 0.0) < at


def test_a_late_instant_and_a_short_gap() -> None:
    """At t = 10^6 ms, 0.5 ms later: many floats near 0.5 give the same sum."""
    now = 1_000_000.3
    d = delay_until(now, now + 0.5)
    assert now + d == now + 0.5 and now + math.nextafter(d, 0.0) < now + 0.5
