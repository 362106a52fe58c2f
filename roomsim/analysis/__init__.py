"""Numbers and graphs computed from a trace (no matplotlib here)."""

from roomsim.analysis.metrics import run_metrics
from roomsim.analysis.outcomes import OUTCOMES, outcome_table

__all__ = ["OUTCOMES", "outcome_table", "run_metrics"]
