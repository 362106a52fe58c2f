"""A saved trace (JSON Lines or Parquet), read one record at a time in bounded memory.

:class:`TraceReader` yields the records of a file written by ``roomsim run
--trace`` without loading it whole, so the checks and the latency table of a
trace of any size need only what they keep.  A line that is not a record
raises :class:`TraceFileError`, whose text is one line naming the file and
the line.  A file whose name ends in ``.parquet`` is read with
:func:`roomsim.trace_parquet.parquet_records`, one row group at a time.

:meth:`TraceReader.items` gives the same records faster, for a reader that
can take deliveries in batches (``roomsim draw``, :func:`~roomsim.analysis.dataframe.read_trace`):
the ``deliver`` lines, most of a large trace, are recognised by their fixed
shape (:func:`roomsim.trace.batch_deliveries`) and the consecutive ones of one message,
node, event and instant come as one :class:`DeliveryBatch` instead of a
dictionary each; any other line is parsed as JSON, as before.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from roomsim.trace import DeliveryBatch, batch_deliveries, expand

__all__ = [
    "MAX_LINE",
    "DeliveryBatch",
    "TraceFileError",
    "TraceReader",
    "batch_deliveries",
    "expand",
]

#: the longest line a trace may have, in characters (a record is a few hundred)
MAX_LINE = 1 << 20


class TraceFileError(ValueError):
    """A file that cannot be read as a trace (the text is one line)."""


class TraceReader:
    """The records of a JSON Lines (or ``.parquet``) trace file, in file order.

    Parameters
    ----------
    path : str or PathLike
        The file; ``-`` reads standard input.

    Attributes
    ----------
    line : int
        The number of the line (of a Parquet file: the row) last read, for
        messages about a record.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    ...     _ = f.write('{"t":0,"kind":"connect","client":"a","node":"n1","sid":"s1"}\\n\\n')
    ...     _ = f.write('{"t":1,"kind":"join","client":"a","node":"n1","room":"r"}\\n')
    >>> [r["kind"] for r in TraceReader(f.name)]
    ['connect', 'join']
    >>> with open(f.name, "a") as out:
    ...     _ = out.write("[1, 2]\\n")
    >>> list(TraceReader(f.name))
    Traceback (most recent call last):
    ...
    roomsim.analysis.jsonl.TraceFileError: ...:4: not a trace record: expected a JSON object ...
    >>> os.unlink(f.name)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.line = 0

    def where(self) -> str:
        """``file:line`` of the line last read (``file: row N`` for Parquet)."""
        if self._parquet:
            return f"{self.path}: row {self.line}"
        return f"{self.path}:{self.line}"

    @property
    def _parquet(self) -> bool:
        return self.path != "-" and self.path.lower().endswith(".parquet")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.line = 0
        if self.path == "-":
            yield from self._records(sys.stdin)
            return
        if self._parquet:
            yield from self._parquet_records()
            return
        try:
            stream = open(self.path, encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as err:
            raise TraceFileError(f"{self.path}: cannot read it ({err.strerror})") from None
        with stream:
            yield from self._records(stream)

    def items(self) -> Iterator[dict[str, Any] | DeliveryBatch]:
        """The records, in file order, runs of deliveries as :class:`DeliveryBatch`.

        The same records as iterating the reader (:func:`expand` gives them),
        and the same errors, read several times faster on a large trace.
        """
        self.line = 0
        if self.path == "-":
            yield from batch_deliveries(self._lines(sys.stdin), self._parse_line)
            return
        if self._parquet:
            yield from self._parquet_records()
            return
        try:
            stream = open(self.path, encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as err:
            raise TraceFileError(f"{self.path}: cannot read it ({err.strerror})") from None
        with stream:
            yield from batch_deliveries(self._lines(stream), self._parse_line)

    def _parse_line(self, text: str) -> dict[str, Any] | None:
        return self._parse(text) if text.strip() else None

    def _records(self, stream: IO[str]) -> Iterator[dict[str, Any]]:
        for text in self._lines(stream):
            if text.strip():
                yield self._parse(text)

    def _lines(self, stream: IO[str]) -> Iterator[str]:
        while True:
            try:
                text = stream.readline(MAX_LINE)
            except UnicodeDecodeError:
                raise TraceFileError(
                    f"{self.path}:{self.line + 1}: not a trace: it is not UTF-8 text"
                ) from None
            except OSError as err:
                raise TraceFileError(f"{self.path}: cannot read it ({err.strerror})") from None
            if not text:
                return
            self.line += 1
            if len(text) >= MAX_LINE and not text.endswith("\n"):
                raise TraceFileError(
                    f"{self.where()}: not a trace: a line longer than {MAX_LINE:,} characters"
                )
            yield text

    def _parquet_records(self) -> Iterator[dict[str, Any]]:
        from roomsim.trace_parquet import parquet_records

        if not os.path.exists(self.path):
            raise TraceFileError(f"{self.path}: cannot read it (No such file or directory)")
        try:
            for rec in parquet_records(self.path):
                self.line += 1
                yield rec
        except (ValueError, ImportError) as err:
            raise TraceFileError(str(err)) from None

    def _parse(self, text: str) -> dict[str, Any]:
        try:
            rec = json.loads(text, parse_constant=_no_constant)
        except ValueError as err:
            reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
            raise TraceFileError(f"{self.where()}: not a trace: not JSON ({reason})") from None
        t = rec.get("t") if isinstance(rec, dict) else None
        if (
            t is None
            or t.__class__ not in (int, float)
            or not math.isfinite(t)
            or not isinstance(rec.get("kind"), str)
        ):
            raise TraceFileError(
                f'{self.where()}: not a trace record: expected a JSON object with "t"'
                ' (a number) and "kind"'
            )
        return rec


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a trace can hold")
