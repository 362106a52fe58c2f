"""What ``roomsim real`` needs from the machine: Node.js, its packages, and Redis.

Nothing else in roomsim needs any of them.  :func:`missing` says in one
line what is absent; :func:`install` runs ``npm ci`` in this directory,
which installs the pinned versions of the lock file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["HERE", "PACKAGES", "install", "missing", "node_path", "redis_path"]

#: The directory holding the Node code, ``package.json`` and its lock file.
HERE = Path(__file__).resolve().parent

#: The Node packages the runner loads (pinned in ``package-lock.json``).
PACKAGES = ("socket.io", "socket.io-client", "@socket.io/redis-adapter", "redis")


def node_path() -> str | None:
    """The ``node`` executable (``$ROOMSIM_NODE`` or ``node`` on PATH), or None."""
    return os.environ.get("ROOMSIM_NODE") or shutil.which("node")


def redis_path() -> str | None:
    """The ``redis-server`` executable (``$ROOMSIM_REDIS_SERVER`` or on PATH), or None."""
    return os.environ.get("ROOMSIM_REDIS_SERVER") or shutil.which("redis-server")


def packages_missing() -> list[str]:
    """The pinned Node packages not installed in :data:`HERE`'s ``node_modules``."""
    return [p for p in PACKAGES if not (HERE / "node_modules" / p / "package.json").is_file()]


def missing(adapter: str = "redis", *, packages: bool = True) -> str | None:
    """One line saying what ``roomsim real`` lacks for ``adapter``, or None.

    Examples
    --------
    >>> missing("memory", packages=False) is None or "Node.js" in missing("memory", packages=False)
    True
    """
    lacking = []
    if node_path() is None:
        lacking.append("Node.js ('node' on PATH, version 18 or later; https://nodejs.org)")
    if adapter != "memory" and redis_path() is None:
        lacking.append("Redis ('redis-server' on PATH, e.g. apt-get install redis-server)")
    if packages and node_path() is not None and packages_missing():
        lacking.append(
            f"its Node packages ({', '.join(packages_missing())}): run 'roomsim real --install'"
        )
    if not lacking:
        return None
    return "roomsim real needs " + " and ".join(lacking)


def install(*, quiet: bool = False) -> str | None:
    """Install the pinned Node packages with ``npm ci``; return an error line or None."""
    npm = shutil.which("npm")
    if npm is None:
        return "roomsim real --install needs npm (it comes with Node.js; https://nodejs.org)"
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--omit=dev"],
        cwd=HERE,
        capture_output=quiet,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] if quiet else []
        return "npm ci failed in " + str(HERE) + (f": {tail[0]}" if tail else "")
    return None
