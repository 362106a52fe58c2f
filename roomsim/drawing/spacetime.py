"""Drawing a space-time diagram (:func:`~roomsim.analysis.spacetime`): lanes, arrows, marks.

Every hop of the window is drawn, however many (arrows go to matplotlib in
one batch per style); only the text labels are thinned when they would
crowd, and the labels of failures and returns (crash, restart, broker,
partition, heal, reconnect) are placed before any other.  By default the
picture zooms on the busy part of the run (:func:`busy_window`).
"""

from __future__ import annotations

import math
from typing import Any

from roomsim.analysis.records import round_ms
from roomsim.analysis.spacetime import FAILURE_MARKS, Hop, Mark, SpaceTime
from roomsim.drawing.colours import FATE_COLOURS, message_colours
from roomsim.drawing.output import new_axes

__all__ = ["busy_window", "draw_spacetime", "spacetime_figsize"]

#: Tick labels shown at most, and mark labels per lane at most.
_MOST_TICKS = 60
_MARK_STYLE = {
    "connect": (">", "#2e8b57"),
    "disconnect": ("|", "#c0392b"),
    "join": ("^", "#555555"),
    "leave": ("v", "#555555"),
    "emit": ("*", None),
    "reconnect": (">", "#1f77b4"),
    "reconnect_failed": ("x", "#c0392b"),
    "crash": ("X", "#8b0000"),
    "restart": ("P", "#2e8b57"),
    "broker": ("s", "#7f3c8d"),
    "partition": ("D", "#e67e22"),
    "heal": ("D", "#2e8b57"),
}
_FAINT = ("ignored", "discarded")
#: the busy part holds this share of the run's instants ...
_BUSY_SHARE = 0.8
#: ... and is drawn alone only when it is at most this share of the whole span
_ZOOM_BELOW = 0.5


def busy_window(data: SpaceTime) -> tuple[float, float]:
    """The busy part of the window: the shortest span holding 80% of the instants.

    The instants are every hop's two ends and every mark.  The span then
    grows over the instants close to it (within a quarter of its width) and
    to the end of every arrow starting in it.  When it is more than half the
    whole window, or there are fewer than 10 instants, the whole window is
    returned.

    Examples
    --------
    >>> from roomsim.analysis.spacetime import Mark
    >>> marks = [Mark(("node", "n1"), t, "emit", "m") for t in range(20)]
    >>> marks.append(Mark(("node", "n1"), 5000, "restart", "restart"))
    >>> busy_window(SpaceTime(marks=marks, start_ms=0, end_ms=5000))  # the burst, not the restart
    (0, 19)
    >>> busy_window(SpaceTime(marks=marks[:5], start_ms=0, end_ms=5000))
    (0, 5000)
    """
    times = sorted(
        [t for h in data.hops for t in (h.t0_ms, h.t1_ms)] + [m.t_ms for m in data.marks]
    )
    whole = (data.start_ms, data.end_ms)
    if len(times) < 10 or data.end_ms <= data.start_ms:
        return whole
    k = math.ceil(_BUSY_SHARE * len(times))
    i = min(range(len(times) - k + 1), key=lambda i: times[i + k - 1] - times[i])
    j = i + k - 1
    # grow the span over instants close to it (within a quarter of its width), so that
    # a burst is shown whole: every arrow that starts in it ends in it
    while True:
        reach = (times[j] - times[i]) * 0.25
        if j + 1 < len(times) and times[j + 1] - times[j] <= reach:
            j += 1
        elif i > 0 and times[i] - times[i - 1] <= reach:
            i -= 1
        else:
            break
    lo, hi = times[i], times[j]
    hi = max([hi, *(h.t1_ms for h in data.hops if lo <= h.t0_ms <= hi)])
    if hi - lo > _ZOOM_BELOW * (data.end_ms - data.start_ms):
        return whole
    return lo, hi


def spacetime_figsize(data: SpaceTime) -> tuple[float, float]:
    """A figure size with room for every lane (up to 40 inches high).

    Examples
    --------
    >>> from roomsim.analysis import SpaceTime
    >>> spacetime_figsize(SpaceTime())
    (12.0, 3.5)
    """
    return (12.0, min(40.0, max(3.5, 0.38 * len(data.lanes) + 1.8)))


def draw_spacetime(data: SpaceTime, ax: Any = None, *, zoom: bool = True) -> Any:
    """Draw lanes top to bottom, time left to right, and every hop as an arrow.

    Arrows are coloured by message (a legend names up to 12); copies a node
    threw away are faint; a drop ends in a cross.  Marks, each kind its own
    glyph (the legend names those shown): connect (green right triangle: the
    lane begins), reconnect (blue right triangle, labelled), disconnect (red
    bar: the lane ends), join (up triangle),
    leave (down triangle), emit (star), crash (dark red cross), restart
    (green plus), broker down or up (square on the broker lane), partition
    and heal (orange and green diamonds).  Failures and returns are labelled
    first; other labels that would overlap one on their lane are left out.

    Parameters
    ----------
    data : SpaceTime
        From :func:`~roomsim.analysis.spacetime`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new pyplot figure).
    zoom : bool
        Show only :func:`busy_window` (the title says so); ``False`` shows
        the whole window of ``data``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis import spacetime
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(2, "emit", msg="m1", node="n1", event="e", to=[], **{"except": []})
    >>> trace.add_deliveries(7, "m1", "n1", "e", ["alice"])
    >>> ax = draw_spacetime(spacetime(trace, start=0, end=10), ax=Figure().subplots())
    >>> [float(x) for x in ax.get_xlim()]
    [-0.2, 10.2]
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = new_axes(spacetime_figsize(data), ax)
    lanes = data.lanes
    y = {lane.key: -float(i) for i, lane in enumerate(lanes)}
    start, end = busy_window(data) if zoom else (data.start_ms, data.end_ms)
    zoomed = (start, end) != (data.start_ms, data.end_ms)
    pad = (end - start) * 0.02 or 1.0
    colour = dict(zip(data.messages, message_colours(len(data.messages)), strict=True))

    ax.add_collection(
        LineCollection(
            [[(start - pad, y[lane.key]), (end + pad, y[lane.key])] for lane in lanes],
            colors=["#999999" if lane.kind == "client" else "#333333" for lane in lanes],
            linewidths=[0.6 if lane.kind == "client" else 1.4 for lane in lanes],
            linestyles=["dashed" if lane.kind == "broker" else "solid" for lane in lanes],
            zorder=0,
        )
    )
    step = max(1, math.ceil(len(lanes) / _MOST_TICKS))
    shown = lanes[::step]
    ax.set_yticks([y[lane.key] for lane in shown], [lane.name for lane in shown])
    for tick, lane in zip(ax.get_yticklabels(), shown, strict=True):
        if lane.kind != "client":
            tick.set_fontweight("bold")

    hops = [h for h in data.hops if h.src in y and h.dst in y]
    for faint in (False, True):
        _arrows(ax, [h for h in hops if (h.fate in _FAINT) == faint], y, colour, faint)
    drops = [h for h in hops if h.fate == "dropped"]
    if drops:
        ax.scatter(
            [h.t1_ms for h in drops],
            [y[h.dst] for h in drops],
            marker="x",
            s=45,
            color=FATE_COLOURS["dropped"],
            zorder=4,
        )

    marks = [m for m in data.marks if m.lane in y]
    labelled = [m for m in marks if start - pad <= m.t_ms <= end + pad]
    for kind, (marker, fixed) in _MARK_STYLE.items():
        chosen = [m for m in marks if m.kind == kind]
        if chosen:
            ax.scatter(
                [m.t_ms for m in chosen],
                [y[m.lane] for m in chosen],
                marker=marker,
                s=90 if kind == "emit" else 80,
                color=[fixed or colour.get(m.msg or "", "#333333") for m in chosen],
                edgecolors="#222222" if kind == "emit" else None,
                linewidths=2.0 if marker in ("|", "x") else 0.5,
                zorder=5,
                gid=f"mark:{kind}",
            )
    _labels(ax, labelled, y, start, end, small=len(lanes) > 30)

    ax.set_xlim(start - pad, end + pad)
    ax.set_ylim(-len(lanes) + 0.4, 0.6)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("client, node or broker")
    shown_hops = [h for h in hops if h.t1_ms >= start and h.t0_ms <= end]
    messages = {h.msg for h in shown_hops}
    title = (
        f"{len(shown_hops)} hops of {len(messages)} message{'s' * (len(messages) != 1)},"
        f" t={round_ms(start)} to {round_ms(end)} ms"
    )
    if zoomed:
        title += (
            f" (the busy part of {round_ms(data.start_ms)} to {round_ms(data.end_ms)} ms;"
            " --from/--to for another window)"
        )
    ax.set_title(title, fontsize=10)
    handles = [Line2D([], [], color=colour[msg], lw=2, label=msg) for msg in data.messages[:12]]
    if len(data.messages) > 12:
        handles.append(Line2D([], [], color="none", label=f"... {len(data.messages) - 12} more"))
    handles += [
        Line2D([], [], color="#888888", lw=2, alpha=0.35, label="copy thrown away"),
        Line2D([], [], color=FATE_COLOURS["dropped"], marker="x", ls="", label="dropped"),
    ]
    kinds = {m.kind for m in marks}
    handles += [
        Line2D([], [], color=fixed, marker=marker, ls="", markersize=7, label=kind)
        for kind, (marker, fixed) in _MARK_STYLE.items()
        if kind in kinds and fixed is not None
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _labels(
    ax: Any, marks: list[Mark], y: dict[Any, float], start: float, end: float, small: bool
) -> None:
    """Label marks: one label per lane and instant, none overlapping another on its lane,
    and client lanes skipped in turn when lanes are closer than a line of text."""
    size = 6 if small else 7
    box = ax.get_window_extent()
    line_px = size * 1.4 * ax.figure.dpi / 72
    every = max(1, math.ceil(line_px / ((box.height or 1.0) / max(1, len(y)))))
    merged: dict[tuple[Any, float], list[str]] = {}
    for m in marks:
        if m.lane[0] == "client" and m.kind not in FAILURE_MARKS and round(-y[m.lane]) % every:
            continue
        merged.setdefault((m.lane, m.t_ms), []).append(m.label)
    width_px = box.width or 1.0
    per_char = (end - start or 1.0) * size * 0.62 * ax.figure.dpi / 72 / width_px
    near_end = end - (end - start) * 0.1
    first = {(m.lane, m.t_ms) for m in marks if m.kind in FAILURE_MARKS}
    # failures first, every one shown: one that overlaps another is raised a line (they
    # are few); then the others left to right, each after the last and clear of the failures'
    fixed: dict[Any, list[tuple[float, float, int]]] = {}
    edge: dict[Any, float] = {}
    for (lane, t), texts in sorted(
        merged.items(), key=lambda item: (item[0] not in first, item[0][1])
    ):
        text = " ".join(dict.fromkeys(texts))
        wide = (len(text) + 1) * per_char
        right = t > near_end
        lo, hi = (t - wide, t) if right else (t, t + wide)
        spans = fixed.setdefault(lane, [])
        levels = {level for a, b, level in spans if lo < b and a < hi}
        level = 0
        if (lane, t) in first:
            level = min(set(range(len(levels) + 1)) - levels)
            spans.append((lo, hi, level))
        elif levels or lo < edge.get(lane, -math.inf):
            continue
        else:
            edge[lane] = hi
        ax.annotate(
            text,
            (t, y[lane]),
            xytext=(-3 if right else 3, 4 + level * size * 1.2),
            textcoords="offset points",
            ha="right" if right else "left",
            fontsize=size,
            color="#222222",
            annotation_clip=True,
        )


def _arrows(
    ax: Any, hops: list[Hop], y: dict[Any, float], colour: dict[str, str], faint: bool
) -> None:
    if not hops:
        return
    ax.quiver(
        [h.t0_ms for h in hops],
        [y[h.src] for h in hops],
        [h.t1_ms - h.t0_ms for h in hops],
        [y[h.dst] - y[h.src] for h in hops],
        color=[colour.get(h.msg, "#333333") for h in hops],
        angles="xy",
        scale_units="xy",
        scale=1,
        width=0.0018,
        headwidth=5,
        headlength=6,
        headaxislength=5,
        alpha=0.3 if faint else 0.9,
        zorder=3,
    )
