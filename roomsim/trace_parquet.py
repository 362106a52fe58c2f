"""A trace as Parquet: the same records and keys as JSON Lines, in columns.

``roomsim run FILE --trace OUT.parquet`` writes the trace with
:class:`ParquetSink`, one row a record, streamed in row groups of
:data:`ROW_GROUP` rows so a run of any size needs only one group in memory.
Parquet is the optional ``parquet`` extra (pyarrow).

The columns are ``t`` (ms, a float), ``kind`` and one column per key that
records commonly carry (:data:`COLUMNS`: text, whole numbers or lists of
text); a record's other keys, or a value of another type (a ``from`` that is
``null``), go to ``_extra`` as a JSON object, and ``_keys`` holds each
record's keys in order, so that :func:`parquet_records` gives back every
record exactly as JSON Lines holds it; :func:`roomsim.analysis.dataframe.read_trace`
gives either format as a pandas DataFrame.  A Parquet file written by other
tools (DuckDB, pandas) with at least ``t`` and ``kind`` reads as a trace
too: each row is a record of its non-null columns.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["COLUMNS", "ROW_GROUP", "ParquetSink", "need_pyarrow", "parquet_records"]

#: rows per row group: a few MB of memory while writing or reading
ROW_GROUP = 1 << 17

#: the typed columns after ``t`` and ``kind``: name -> "str", "int" or "list"
COLUMNS: dict[str, str] = {
    "msg": "str",
    "client": "str",
    "node": "str",
    "event": "str",
    "room": "str",
    "sid": "str",
    "namespace": "str",
    "channel": "str",
    "reason": "str",
    "from": "str",
    "to": "list",
    "except": "list",
    "rooms": "list",
    "targets": "int",
    "bytes": "int",
}
#: a delivery's keys, in order, as ``_keys`` holds them
_DELIVER_KEYS = ("t", "kind", "msg", "client", "node", "event")
_DELIVER_ORDER = ",".join(_DELIVER_KEYS)
#: the columns that hold each record's keys in order, and its other keys as JSON
KEYS, EXTRA = "_keys", "_extra"
_INT64 = 1 << 63
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def need_pyarrow() -> Any:
    """``pyarrow.parquet``, or an ImportError whose text is one line naming the extra."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            "Parquet traces need pyarrow: python -m pip install 'roomsim[parquet]'"
        ) from None
    return pq


def _schema() -> Any:
    import pyarrow as pa

    kinds = {"str": pa.string(), "int": pa.int64(), "list": pa.list_(pa.string())}
    return pa.schema(
        [("t", pa.float64()), ("kind", pa.string())]
        + [(name, kinds[kind]) for name, kind in COLUMNS.items()]
        + [(KEYS, pa.string()), (EXTRA, pa.string())]
    )


def _fits(kind: str, value: Any) -> bool:
    cls = value.__class__
    if kind == "str":
        return cls is str
    if kind == "int":
        return cls is int and -_INT64 <= value < _INT64
    return cls is list and all(v.__class__ is str for v in value)


class ParquetSink:
    """Records written to a Parquet file in row groups, in the order given.

    Parameters
    ----------
    file : binary file object
        Where the Parquet file goes (it is not closed here).
    row_group : int, optional
        Rows per row group (default: :data:`ROW_GROUP`).

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> sink = ParquetSink(buffer)
    >>> sink.add({"t": 0, "kind": "connect", "client": "a", "node": "n1", "sid": "s1"})
    >>> sink.add_deliveries(2.5, "m1", "n1", "news", ["a", "b"])
    >>> sink.close()
    >>> [(r["t"], r["kind"], r["client"]) for r in parquet_records(buffer)]
    [(0, 'connect', 'a'), (2.5, 'deliver', 'a'), (2.5, 'deliver', 'b')]
    """

    def __init__(self, file: IO[bytes], row_group: int | None = None) -> None:
        pq = need_pyarrow()
        self._schema = _schema()
        self._writer = pq.ParquetWriter(file, self._schema, compression="zstd")
        self._row_group = row_group or ROW_GROUP
        self._names = list(self._schema.names)
        self._cols: dict[str, list[Any]] = {name: [] for name in self._names}
        self._rows = 0

    def add(self, record: dict[str, Any]) -> None:
        """Add one record (``t`` and ``kind`` first, then flat keys)."""
        cols = self._cols
        placed: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in record.items():
            if key == "t" or key == "kind":
                continue
            kind = COLUMNS.get(key)
            if kind is not None and _fits(kind, value):
                placed[key] = value
            else:
                extra[key] = value
        cols["t"].append(float(record["t"]))
        cols["kind"].append(record["kind"])
        for name in COLUMNS:
            cols[name].append(placed.get(name))
        cols[KEYS].append(",".join(record))
        cols[EXTRA].append(_dumps(extra) if extra else None)
        self._rows += 1
        if self._rows >= self._row_group:
            self._flush()

    def add_deliveries(
        self, t: int | float, msg: str, node: str, event: str, clients: list[str]
    ) -> None:
        """Add one ``deliver`` record per client, as :meth:`Trace.add_deliveries` does."""
        start = 0
        while start < len(clients):
            part = clients[start : start + self._row_group - self._rows]
            start += len(part)
            n = len(part)
            cols = self._cols
            cols["t"].extend([float(t)] * n)
            cols["kind"].extend(["deliver"] * n)
            cols["msg"].extend([msg] * n)
            cols["client"].extend(part)
            cols["node"].extend([node] * n)
            cols["event"].extend([event] * n)
            for name in COLUMNS:
                if name not in ("msg", "client", "node", "event"):
                    cols[name].extend([None] * n)
            cols[KEYS].extend(["t,kind,msg,client,node,event"] * n)
            cols[EXTRA].extend([None] * n)
            self._rows += n
            if self._rows >= self._row_group:
                self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        import pyarrow as pa

        table = pa.table(
            {
                name: pa.array(self._cols[name], type=self._schema.field(name).type)
                for name in self._names
            },
            schema=self._schema,
        )
        self._writer.write_table(table)
        self._cols = {name: [] for name in self._names}
        self._rows = 0

    def close(self) -> None:
        """Write the last row group and the file's footer."""
        self._flush()
        self._writer.close()


def _time(t: float) -> int | float:
    return int(t) if t.is_integer() else t


def parquet_records(
    source: str | os.PathLike[str] | IO[bytes], *, batched: bool = False
) -> Iterator[Any]:
    """The records of a Parquet trace, one row group in memory at a time.

    With ``batched``, each run of ``deliver`` rows of one message, node,
    event and time that hold only those keys comes as one tuple ``(t, msg,
    node, event, clients)`` (as :class:`roomsim.analysis.jsonl.DeliveryBatch`),
    for a reader that takes deliveries in batches.

    Raises ValueError (one line) when ``source`` is not Parquet or has no
    ``t`` and ``kind`` columns.
    """
    pq = need_pyarrow()
    import pyarrow as pa

    name = source if isinstance(source, (str, os.PathLike)) else "<parquet>"
    try:
        file = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as err:
        raise ValueError(f"{os.fspath(name)}: not a Parquet trace ({err})") from None
    names = file.schema_arrow.names
    missing = [c for c in ("t", "kind") if c not in names]
    if missing:
        raise ValueError(f"{os.fspath(name)}: not a roomsim trace: no column {missing[0]!r}")
    ordered = KEYS in names
    for group in range(file.num_row_groups):
        table = file.read_row_group(group)
        cols = {c: table.column(c).to_pylist() for c in names}
        times, keys = cols["t"], cols.get(KEYS)
        extras = cols.get(EXTRA, [None] * table.num_rows)
        others = [c for c in names if c not in ("t", "kind", KEYS, EXTRA)]
        kinds = cols["kind"]
        plain = batched and keys is not None and all(c in cols for c in _DELIVER_KEYS[2:])
        order: list[Any] = keys if keys is not None else []
        run: list[str] = []
        run_key: tuple[Any, ...] | None = None
        for i in range(table.num_rows):
            if plain and kinds[i] == "deliver" and order[i] == _DELIVER_ORDER and not extras[i]:
                t = times[i]
                if t is not None and t.__class__ is float and math.isfinite(t):
                    key = (t, cols["msg"][i], cols["node"][i], cols["event"][i])
                    if key != run_key:
                        if run:
                            yield (_time(run_key[0]), *run_key[1:], run)  # type: ignore[index]
                        run_key, run = key, []
                    run.append(cols["client"][i])
                    continue
            if run:
                yield (_time(run_key[0]), *run_key[1:], run)  # type: ignore[index]
                run_key, run = None, []
            t = times[i]
            if t is None or not isinstance(t, (int, float)) or not math.isfinite(t):
                raise ValueError(f"{os.fspath(name)}: row {i + 1}: 't' is not a finite number")
            extra = json.loads(extras[i]) if extras[i] else {}
            rec: dict[str, Any] = {"t": _time(float(t)), "kind": cols["kind"][i]}
            if ordered and keys is not None and keys[i]:
                for key in keys[i].split(",")[2:]:
                    rec[key] = extra[key] if key in extra else cols[key][i]
            else:
                for key in others:
                    if cols[key][i] is not None:
                        rec[key] = cols[key][i]
                rec.update(extra)
            yield rec
        if run:
            yield (_time(run_key[0]), *run_key[1:], run)  # type: ignore[index]
