"""The processes of a ``roomsim real`` run: Node programs speaking JSON lines, and Redis.

Every process is started here and stopped here; a run never leaves one
behind, even when it fails.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

__all__ = ["JsonProcess", "RealError", "RedisServer", "free_port"]


class RealError(Exception):
    """Something of the real cluster failed (a process died, a time-out)."""


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JsonProcess:
    """A child process that reads JSON lines on stdin and writes them on stdout.

    Every line it writes is put on ``events`` as ``(name, message)``; its
    standard error is kept (the last lines) to explain a failure.
    """

    def __init__(
        self, name: str, argv: list[str], events: queue.Queue[Any], cwd: Path | None = None
    ) -> None:
        self.name = name
        self.events = events
        self.stderr: deque[str] = deque(maxlen=40)
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line:
                try:
                    self.events.put((self.name, json.loads(line)))
                except json.JSONDecodeError:
                    self.stderr.append(line)
        self.events.put((self.name, {"ev": "exit"}))

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def send(self, message: dict[str, Any]) -> None:
        """Write one command line."""
        if self.proc.poll() is not None:
            raise RealError(f"{self.name} has stopped{self.why()}")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise RealError(f"{self.name} has stopped{self.why()}") from None

    def why(self) -> str:
        """The last line of its standard error, as ``': ...'``, or nothing."""
        lines = [line for line in self.stderr if line.strip()]
        return f": {lines[-1].strip()}" if lines else ""

    def kill(self) -> None:
        """Kill it at once (SIGKILL), as a crash does."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float = 2.0) -> None:
        """Close its stdin and let it end; kill it if it does not."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        for stream in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class RedisServer:
    """A ``redis-server`` on a free loopback port, with no persistence.

    ``stop`` and ``start`` again keep the port, as a restarted Redis does.
    """

    def __init__(self, executable: str, port: int | None = None) -> None:
        self.executable = executable
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 5.0) -> None:
        """Start it and wait until it answers PING."""
        self.proc = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RealError(f"redis-server did not start on port {self.port}")
            try:
                if self.command("PING") == "PONG":
                    return
            except OSError:
                time.sleep(0.02)
        raise RealError(f"redis-server did not answer on port {self.port}")

    def command(self, *words: str) -> Any:
        """Send one command (RESP) and return its reply: a str, an int or a list."""
        payload = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(payload.encode())
            reader = conn.makefile("rb")
            return _reply(reader)

    def stop(self) -> None:
        """Stop it at once (SIGKILL: nothing is saved anyway)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
        self.proc = None


def _reply(reader: Any) -> Any:
    line = reader.readline().decode().rstrip("\r\n")
    kind, rest = line[:1], line[1:]
    if kind == "+":
        return rest
    if kind == "-":
        raise RealError(f"redis: {rest}")
    if kind == ":":
        return int(rest)
    if kind == "$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)
        return data[:-2].decode()
    if kind == "*":
        return [_reply(reader) for _ in range(int(rest))]
    raise RealError(f"redis: unexpected reply {line!r}")
