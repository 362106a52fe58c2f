"""A saved trace as a pandas DataFrame, from JSON Lines or Parquet: :func:`read_trace`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from roomsim.analysis.jsonl import DeliveryBatch
from roomsim.trace_parquet import EXTRA, KEYS, need_pyarrow

__all__ = ["read_trace"]


def read_trace(path: str | os.PathLike[str]) -> Any:
    """A saved trace (JSON Lines or Parquet, by its suffix) as a pandas DataFrame.

    One row a record; a column per key (``t`` in ms as a float, ``kind``,
    ``msg``, ``client``, ...), empty where a record has no such key.  Both
    formats give the same columns and values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from roomsim.trace import Trace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.add_deliveries(5, "m1", "n1", "news", ["alice", "bob"])
    >>> trace.write_jsonl(folder / "t.jsonl")
    >>> df = read_trace(folder / "t.jsonl")
    >>> df[df.kind == "deliver"].client.tolist(), df.t.tolist()
    (['alice', 'bob'], [0.0, 5.0, 5.0])
    """
    import pandas as pd

    from roomsim.analysis.jsonl import TraceReader

    path = os.fspath(path)
    if str(path).lower().endswith(".parquet"):
        pq = need_pyarrow()
        frame = pq.read_table(path).to_pandas()
        extra = frame.pop(EXTRA) if EXTRA in frame else None
        frame = frame.drop(columns=[KEYS], errors="ignore")
        if extra is not None and extra.notna().any():
            more = pd.DataFrame.from_records(
                [json.loads(x) if isinstance(x, str) else {} for x in extra], index=frame.index
            )
            for column in more:
                if column in frame:
                    frame[column] = frame[column].where(more[column].isna(), more[column])
                else:
                    frame[column] = more[column]
    else:
        frame = pd.DataFrame(_columns(TraceReader(path).items()))
    return _tidy(frame)


def _tidy(frame: Any) -> Any:
    """Drop empty columns, None for missing values, ``t`` as a float."""
    import pandas as pd

    frame = frame.dropna(axis="columns", how="all")
    for column in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])]:
        frame[column] = frame[column].where(frame[column].notna(), None)  # lists: None when empty
    if "t" in frame:
        frame["t"] = frame["t"].astype("float64")
    return frame


def _columns(items: Iterable[dict[str, Any] | DeliveryBatch]) -> dict[str, list[Any]]:
    """The records as columns, in one pass: a column per key, in the order keys
    first appear, None where a record lacks the key (as
    ``pandas.DataFrame.from_records`` of the records has them); a batch of
    deliveries fills its columns in one step."""
    columns: dict[str, list[Any]] = {}
    rows = 0

    def column(key: str) -> list[Any]:
        values = columns.get(key)
        if values is None:
            values = columns[key] = [None] * rows
        elif len(values) < rows:
            values.extend([None] * (rows - len(values)))
        return values

    for item in items:
        if item.__class__ is DeliveryBatch:
            t, msg, node, event, clients = item  # type: ignore[misc]
            n = len(clients)
            for key, value in (("t", t), ("kind", "deliver"), ("msg", msg)):
                column(key).extend([value] * n)
            column("client").extend(clients)
            for key, value in (("node", node), ("event", event)):
                column(key).extend([value] * n)
            rows += n
        else:
            for key, value in item.items():  # type: ignore[union-attr]
                column(key).append(value)
            rows += 1
    for values in columns.values():
        values.extend([None] * (rows - len(values)))
    return columns
