"""Pictures of a run.  matplotlib is imported here only, inside the functions."""

from roomsim.drawing.overview import draw_outcomes, save_overview

__all__ = ["draw_outcomes", "save_overview"]
