"""Play many seeded conformance scenarios simulated and real, and tally the agreement.

``python -m roomsim.real.many LO HI [--timed]`` plays seeds ``LO`` to
``HI - 1`` of :func:`roomsim.real.conformance.sequential_scenario` (or of
:func:`~roomsim.real.conformance.timed_scenario` with ``--timed``) and prints
one line per scenario that differs, then the count per adapter.  Exit
status 1 when any differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from roomsim.real import conformance
from roomsim.real.procs import RealError
from roomsim.scenario import scenario_from_dict

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the seeds given on the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m roomsim.real.many")
    parser.add_argument("lo", type=int)
    parser.add_argument("hi", type=int)
    parser.add_argument("--timed", action="store_true", help="timed scenarios (--timed runs)")
    parser.add_argument("--faults", action="store_true", help="sequential scenarios with failures")
    args = parser.parse_args(argv)
    make: Callable[..., dict[str, Any]] = conformance.sequential_scenario
    if args.timed:
        make = conformance.timed_scenario
    elif args.faults:
        make = conformance.fault_scenario
    played: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    start = time.monotonic()
    for seed in range(args.lo, args.hi):
        data = make(seed)
        adapter = data["cluster"]["adapter"]
        scenario = scenario_from_dict(data, path=f"seed {seed}")
        try:
            lines = conformance.agreement(scenario, timed=args.timed)
        except RealError as err:
            lines = [f"the real run failed: {err}"]
        played[adapter] += 1
        if lines:
            print(f"seed {seed} ({adapter}): {len(lines)} difference(s)", flush=True)
            for line in lines[:10]:
                print(f"    {line}", flush=True)
        else:
            agreed[adapter] += 1
    for adapter in sorted(played):
        print(f"{adapter}: {agreed[adapter]} of {played[adapter]} agree")
    print(
        f"{sum(agreed.values())} of {sum(played.values())} agree, {time.monotonic() - start:.0f} s"
    )
    return 0 if agreed == played else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
