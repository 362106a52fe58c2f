"""Output files: write what the user asked for, and never destroy anything else.

Every file roomsim writes (a trace, a picture, a generated scenario, a sweep's
table) goes through :class:`Output`, which keeps these promises:

- An output that is the same file as an input of the command (by name, through
  a symbolic link or a hard link) is refused before anything runs
  (:func:`refuse_inputs`).
- ``-`` and a path that is standard output itself (``/dev/stdout``) are
  written to standard output.  A character device (``/dev/null``) or a FIFO is
  opened and written through, never replaced.  A symbolic link is followed:
  its target gets the content and the link stays a link.
- A regular file is written under a temporary name in the same folder,
  ``.NAME.PID.part``, then renamed over the target, so a run that fails or is
  stopped leaves the previous file as it was.  The temporary file is removed
  on every error and when the process is stopped by SIGINT or SIGTERM (the
  command line turns both into exceptions); one left by a process that was
  killed outright (SIGKILL) is removed the next time that target is written.
- A missing folder is made.  A file that cannot be written gives one
  :class:`OutputError` line naming the path and the reason.
- New files get the user's umask (``0o666 & ~umask``); a replaced regular
  file keeps its permissions.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "Output",
    "OutputError",
    "check_folder",
    "check_target",
    "how_written",
    "refuse_inputs",
    "remove_stale",
    "same_file",
]

#: temporary files this process is writing now (removed at exit if still there)
_LIVE: set[str] = set()


class OutputError(OSError):
    """An output that cannot be written; its text is one line: path and reason.

    ``written`` lists what the failing step had already written.
    """

    def __init__(self, message: str, written: Iterable[Path] = ()) -> None:
        super().__init__(message)
        self.written = list(written)

    def __str__(self) -> str:
        return str(self.args[0])


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name one file (links followed; a missing file by its name).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "s.yaml").write_text("x")
    1
    >>> same_file(d / "s.yaml", d / "." / "s.yaml"), same_file(d / "s.yaml", d / "t.yaml")
    (True, False)
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_inputs(
    outputs: Iterable[tuple[str, str | os.PathLike[str] | None]],
    inputs: Iterable[str | os.PathLike[str]],
) -> None:
    """Raise :class:`OutputError` when an output is an input, or two outputs are one file.

    ``outputs`` are ``(label, path)`` pairs (``label`` such as ``"--trace"``);
    ``None`` and ``-`` (standard output) are skipped.

    Examples
    --------
    >>> refuse_inputs([("--trace", "s.yaml")], ["./s.yaml"])
    Traceback (most recent call last):
    ...
    roomsim.outputs.OutputError: s.yaml: --trace is the input ./s.yaml; refusing to overwrite it
    """
    inputs = list(inputs)
    seen: list[tuple[str, str | os.PathLike[str]]] = []
    for label, path in outputs:
        if path is None or str(path) == "-":
            continue
        for given in inputs:
            if same_file(path, given):
                raise OutputError(f"{path}: {label} is the input {given}; refusing to overwrite it")
        for other_label, other in seen:
            if same_file(path, other):
                raise OutputError(f"{path}: {other_label} and {label} would write the same file")
        seen.append((label, path))


def check_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """Make ``folder`` if missing and check a file can be made in it; raise :class:`OutputError`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_folder(d / "new" / "pictures", "pictures").is_dir()
    True
    """
    folder = Path(folder)
    _make_folder(folder, folder, what)
    probe = folder / f".roomsim.{os.getpid()}.part"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as err:
        raise OutputError(f"{folder}: cannot write the {what} there: {_reason(err)}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return folder


def _temp_for(target: Path, pid: int) -> Path:
    return target.parent / f".{target.name}.{pid}.part"


def remove_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files ``.NAME.PID.part`` of ``target`` whose process is gone.

    Such a file is what a run killed outright (SIGKILL) leaves behind.
    Returns the files removed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> stale = d / ".t.jsonl.999999999.part"
    >>> _ = stale.write_text("half")
    >>> [p.name for p in remove_stale(d / "t.jsonl")], stale.exists()
    (['.t.jsonl.999999999.part'], False)
    """
    target = Path(target)
    head = f".{target.name}."
    removed: list[Path] = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        middle = name[len(head) : -len(".part")]
        if not (name.startswith(head) and name.endswith(".part") and middle.isdigit()):
            continue
        path = target.parent / name
        pid = int(middle)
        if str(path) in _LIVE or (pid != os.getpid() and _alive(pid)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid < 2**31  # another user's process is alive; an impossible pid is not
    return True


def _reason(err: OSError) -> str:
    return err.strerror or err.__class__.__name__


def _make_folder(folder: Path, path: Path, what: str) -> None:
    """Make ``folder`` (the folder of ``path``) with its parents, or raise one line."""
    if folder.is_dir():
        return

    def said(p: Path) -> str:  # as the user spelt it: relative when they gave a relative path
        return os.path.relpath(p) if not Path(path).is_absolute() else str(p)

    for above in [folder, *folder.parents]:
        if above.exists() or above.is_symlink():
            if not above.is_dir():
                raise OutputError(f"{path}: cannot write the {what}: {said(above)} is not a folder")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(
            f"{path}: cannot write the {what}: cannot make the folder {said(folder)}"
            f" ({_reason(err)})"
        ) from None


def _is_stdout(st: os.stat_result) -> bool:
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real standard output (a notebook, a test)
        return False
    return (out.st_dev, out.st_ino) == (st.st_dev, st.st_ino)


def how_written(path: str | os.PathLike[str], what: str = "file") -> tuple[str, Any]:
    """How ``path`` would be written: ``"stdout"``, ``"through"`` or ``"atomic"``.

    Also returns the ``os.stat`` of what is there (``None`` when nothing is);
    raises :class:`OutputError` for a folder, a block device or a socket.

    Examples
    --------
    >>> how_written("-")[0], how_written("/dev/null")[0], how_written("no/such/t.jsonl")[0]
    ('stdout', 'through', 'atomic')
    """
    if str(path) == "-":
        return "stdout", None
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # a file on the way: said when making it
        return "atomic", None
    except OSError as err:
        raise OutputError(f"{path}: cannot write the {what}: {_reason(err)}") from None
    mode = st.st_mode
    if _is_stdout(st):
        return "stdout", st
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: cannot write the {what}: it is a folder")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "through", st
    if not stat.S_ISREG(mode):
        kind = "a block device" if stat.S_ISBLK(mode) else "not a regular file"
        raise OutputError(
            f"{path}: cannot write the {what}: it is {kind} (give a file, a character"
            " device, a FIFO or - for standard output)"
        )
    if os.path.realpath(path).startswith(("/proc/", "/sys/")):
        raise OutputError(f"{path}: cannot write the {what}: it is a kernel file (/proc, /sys)")
    return "atomic", st


def check_target(path: str | os.PathLike[str], what: str) -> str:
    """Check, before a long computation, that ``path`` can be written; return how.

    Makes a missing folder and tries a file in it (removed again).
    """
    how, _ = how_written(path, what)
    if how == "atomic":
        target = Path(os.path.realpath(path))
        _make_folder(target.parent, Path(path), what)
        try:
            check_folder(target.parent, what)
        except OutputError as err:
            reason = str(err).rpartition(": ")[2]
            raise OutputError(f"{path}: cannot write the {what}: {reason}") from None
    return how


class Output:
    """One output file being written; :meth:`commit` puts it in place, :meth:`discard` drops it.

    Parameters
    ----------
    path : str or Path
        Where the user asked for it; ``-`` is standard output.
    what : str
        What it is, for messages (``"trace"``, ``"picture"``).
    binary : bool
        Open :attr:`file` in binary mode.

    Attributes
    ----------
    file : file object
        Write the content here (or to the file named :attr:`name`).
    name : str
        The file being written: the temporary file for a regular file.
    how : str
        ``"stdout"``, ``"through"`` (a device or FIFO) or ``"atomic"``.

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with Output(d / "sub" / "t.jsonl", "trace") as out:
    ...     _ = out.file.write("{}\\n")
    >>> (d / "sub" / "t.jsonl").read_text(), os.listdir(d / "sub")
    ('{}\\n', ['t.jsonl'])
    >>> with Output(os.devnull, "trace") as out:
    ...     out.how
    'through'
    """

    def __init__(self, path: str | os.PathLike[str], what: str, *, binary: bool = False) -> None:
        self.path = Path(path)
        self.what = what
        self.binary = binary
        self._done = False
        self._keep_mode: int | None = None
        self.how, self.target = self._plan()
        self.file: IO[Any] = self._open()

    def _fail(self, reason: str) -> OutputError:
        return OutputError(f"{self.path}: cannot write the {self.what}: {reason}")

    def _plan(self) -> tuple[str, Path]:
        how, st = how_written(self.path, self.what)
        if how != "atomic":
            return how, self.path
        if st is not None:
            self._keep_mode = stat.S_IMODE(st.st_mode)
        target = Path(os.path.realpath(self.path))
        _make_folder(target.parent, self.path, self.what)
        return how, target

    @property
    def replaces(self) -> bool:
        """Whether a regular file was there before (it stays until :meth:`commit`)."""
        return self._keep_mode is not None

    def _open(self) -> IO[Any]:
        mode = "wb" if self.binary else "w"
        text: dict[str, Any] = {} if self.binary else {"encoding": "utf-8", "newline": "\n"}
        if self.how == "stdout":
            sys.stdout.flush()
            self.name = "<stdout>"
            return sys.stdout.buffer if self.binary else sys.stdout  # type: ignore[return-value]
        if self.how == "through":
            self.name = str(self.path)
            try:
                return open(self.path, mode, **text)  # closed by commit/discard
            except OSError as err:
                raise self._fail(_reason(err)) from None
        remove_stale(self.target)
        tmp = _temp_for(self.target, os.getpid())
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # this pid's own leftover (a reused pid)
            fd = os.open(tmp, flags, 0o666)
        except OSError as err:
            raise self._fail(_reason(err)) from None
        _LIVE.add(str(tmp))
        self.name = str(tmp)
        if self._keep_mode is not None:
            with contextlib.suppress(OSError):
                os.fchmod(fd, self._keep_mode)
        return os.fdopen(fd, mode, **text)

    def failure(self, err: OSError) -> OutputError:
        """The one-line error for ``err`` raised while writing (after discarding)."""
        self.discard()
        kept = " (the previous file is kept)" if self.replaces else ""
        return self._fail(f"{_reason(err)}{kept}")

    def commit(self) -> None:
        """Finish: flush and put the file in place.  Idempotent."""
        if self._done:
            return
        try:
            if self.how == "stdout":
                self.file.flush()
            elif self.how == "through":
                self.file.close()
            else:
                self.file.flush()
                os.fsync(self.file.fileno())
                self.file.close()
                os.replace(self.name, self.target)
                _LIVE.discard(self.name)
        except OSError as err:
            raise self.failure(err) from None
        self._done = True

    def discard(self) -> None:
        """Drop what was written (a regular file keeps its previous content).  Idempotent."""
        if self._done:
            return
        self._done = True
        if self.how == "stdout":
            with contextlib.suppress(OSError, ValueError):
                self.file.flush()
            return
        with contextlib.suppress(OSError, ValueError):
            self.file.close()
        if self.how == "atomic":
            with contextlib.suppress(OSError):
                os.unlink(self.name)
            _LIVE.discard(self.name)

    def __enter__(self) -> Output:
        return self

    def __exit__(self, kind: Any, err: BaseException | None, tb: Any) -> None:
        if err is None:
            self.commit()
            return
        self.discard()
        if isinstance(err, OSError) and not isinstance(err, OutputError):
            raise self.failure(err) from err


@atexit.register
def _remove_live() -> None:
    """At exit, remove any temporary file still being written (a run stopped midway)."""
    for name in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(name)
    _LIVE.clear()
