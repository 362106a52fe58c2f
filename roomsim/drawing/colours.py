"""The colours of the pictures: one per fate, one per message, one per kind of emit."""

from __future__ import annotations

import colorsys

__all__ = ["EMIT_KIND_COLOURS", "FATE_COLOURS", "message_colours"]

#: A colour per ``fate`` of :func:`~roomsim.analysis.delivery_graph` (and of hops).
FATE_COLOURS = {
    "sender": "#1f77b4",
    "sent": "#1f77b4",
    "origin": "#1f4e79",
    "published": "#8e6cbf",
    "relayed": "#17a2b8",
    "received": "#2e8b57",
    "delivered": "#2e8b57",
    "discarded": "#f0a04b",
    "ignored": "#a0a0a0",
    "dropped": "#c0392b",
}

#: A colour per kind of emit (latency plots).
EMIT_KIND_COLOURS = {"room": "#1f77b4", "broadcast": "#ff7f0e", "private": "#2ca02c"}

_TAB10 = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def message_colours(n: int) -> list[str]:
    """``n`` distinct colours, one per message, in a fixed order.

    Up to ten are the tab10 colours; beyond, hues spaced by the golden ratio.

    Examples
    --------
    >>> message_colours(2)
    ['#1f77b4', '#ff7f0e']
    >>> len(set(message_colours(50)))
    50
    """
    if n <= len(_TAB10):
        return _TAB10[:n]
    out = []
    for i in range(n):
        hue = (i * 0.618033988749895) % 1.0
        light = 0.42 + 0.12 * (i % 3) / 2
        r, g, b = colorsys.hls_to_rgb(hue, light, 0.75)
        out.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return out
