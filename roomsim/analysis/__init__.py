"""Numbers and graphs computed from a trace (no matplotlib here)."""

from roomsim.analysis.outcomes import OUTCOMES, outcome_table

__all__ = ["OUTCOMES", "outcome_table"]
