"""Pictures of a run.  matplotlib is imported here only, inside the functions.

Each drawer takes the data an :mod:`roomsim.analysis` function computed
first, and an optional matplotlib ``ax``; layouts are fixed (no randomness).
"""

from roomsim.drawing.animation import animate_deliveries, save_animation
from roomsim.drawing.capacity import draw_backlog, draw_knee, draw_utilisation, save_loops
from roomsim.drawing.graph import delivery_figsize, draw_delivery_graph
from roomsim.drawing.layout import cluster_layout, cluster_positions, membership_layout
from roomsim.drawing.membership import draw_membership, membership_figsize
from roomsim.drawing.metrics import draw_broker_traffic, draw_latency_cdf, draw_node_load
from roomsim.drawing.output import draw_to_file, save_figure
from roomsim.drawing.overview import draw_outcomes, save_overview
from roomsim.drawing.spacetime import draw_spacetime, spacetime_figsize

__all__ = [
    "animate_deliveries",
    "cluster_layout",
    "cluster_positions",
    "delivery_figsize",
    "draw_backlog",
    "draw_broker_traffic",
    "draw_delivery_graph",
    "draw_knee",
    "draw_latency_cdf",
    "draw_membership",
    "draw_node_load",
    "draw_outcomes",
    "draw_spacetime",
    "draw_to_file",
    "draw_utilisation",
    "membership_figsize",
    "membership_layout",
    "save_animation",
    "save_figure",
    "save_loops",
    "save_overview",
    "spacetime_figsize",
]
