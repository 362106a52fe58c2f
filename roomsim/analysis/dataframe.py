"""A saved trace as a pandas DataFrame, from JSON Lines or Parquet: :func:`read_trace`."""

from __future__ import annotations

import json
import os
from typing import Any

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
        frame = pd.DataFrame.from_records(list(TraceReader(path)))
    frame = frame.dropna(axis="columns", how="all")
    for column in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])]:
        frame[column] = frame[column].where(frame[column].notna(), None)  # lists: None when empty
    if "t" in frame:
        frame["t"] = frame["t"].astype("float64")
    return frame
