"""The output directory of ``glassnet train``: one run at a time, and its record.

Two runs writing into one ``--out`` would interleave ``history.csv`` and leave
the model of one beside the best weights of the other, so a run holds an
exclusive lock on the directory while it writes there: ``<out>/.glassnet.lock``,
locked with ``flock`` and holding the owner's pid, host and start time for the
message a second run gets. The kernel releases a ``flock`` when its process
ends, however it ends (SIGKILL included), so a lock file left behind by a dead
run is stale by construction and the next run simply takes it.

``<out>/run.json`` records the run: its preset, every setting that shapes the
result (the options given and the preset's defaults they stood for), whether it
is ``running`` (or crashed), ``interrupted``, ``failed`` (its loss diverged) or
``finished``, and the files it wrote. It is
what ``--resume`` continues with and what a new run in the same directory
checks before it replaces anything. It is data only (JSON), written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from glassnet._internal.io import atomic_write_bytes
from glassnet.cli._common import CliError

LOCK = ".glassnet.lock"
RECORD = "run.json"
FORMAT = "glassnet-train-run"
# "failed": the loss diverged, nothing to resume; "running" after a crash or a
# SIGKILL: the backup goes on with --resume.
STATUSES = ("running", "interrupted", "failed", "finished")


def _owner() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _describe(owner: bytes) -> str:
    try:
        who = json.loads(owner.decode())
        return f"pid {who['pid']} on {who['host']}, started {who['started']}"
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return "its owner unknown"


def make_dir(out: Path) -> None:
    """Create ``out`` (and its parents), or say in one line why not."""
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: expected a directory; that path is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CliError(
            f"--out {out}: cannot create the directory ({e.strerror or e}); "
            "nothing was written"
        ) from None


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock while the block runs; refuse if another run holds it.

    Raises:
        CliError: naming the run (pid, host, start) that holds the directory,
            or saying that ``out`` cannot be written.
    """
    import fcntl  # POSIX; glassnet's command line runs on Linux and macOS

    path = out / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise CliError(
                f"--out {out}: cannot write there ({e.strerror or e}); nothing "
                "was written; give a writable directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 4096)
            os.close(fd)
            raise _held(out, _describe(owner)) from None
        # The previous owner may have removed the file between our open and our
        # lock: then the lock is on a file nobody else will see; open it again.
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(_owner()).encode())
        except OSError as e:
            raise CliError(
                f"--out {out}: cannot write its lock file ({e.strerror or e}); "
                "nothing else was written, earlier files are intact"
            ) from None
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # before unlocking, so no one locks the old file
        os.close(fd)


def holder(out: Path) -> str | None:
    """Who holds ``out``'s lock now (pid, host, start), or None: a look that
    takes nothing, so that a command can say so before its other checks."""
    import fcntl

    try:
        fd = os.open(out / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _describe(os.read(fd, 4096))
    finally:
        os.close(fd)  # closing drops the shared lock, if taken
    return None


def refuse_if_held(out: Path) -> None:
    """Raise the message :func:`locked` would, if another run holds ``out``."""
    who = holder(out)
    if who is not None:
        raise _held(out, who)


def _held(out: Path, who: str) -> CliError:
    return CliError(
        f"--out {out}: another glassnet run ({who}) is writing there; wait for "
        "it to end or give another --out"
    )


def read_record(out: Path) -> dict[str, Any] | None:
    """``out``'s run record, or None when there is none.

    Raises:
        CliError: for a record that is not one (naming the file).
    """
    path = out / RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_bytes().decode())
    except (ValueError, UnicodeDecodeError) as e:
        raise CliError(f"{path}: expected a glassnet run record (JSON); {e}") from None
    ok = (
        isinstance(record, dict)
        and record.get("format") == FORMAT
        and isinstance(record.get("preset"), str)
        and isinstance(record.get("options"), dict)
        and record.get("status") in STATUSES
        and isinstance(record.get("files", []), list)
    )
    if not ok:
        raise CliError(
            f"{path}: expected a glassnet run record {{format, preset, options, "
            "status}; move it away if it is not glassnet's"
        )
    return record


def write_record(
    out: Path,
    preset: str,
    options: dict[str, Any],
    status: str,
    files: list[str] | None = None,
) -> None:
    """Write ``out``'s run record atomically."""
    record = {
        "format": FORMAT,
        "preset": preset,
        "options": options,
        "status": status,
        "files": files or [],
    }
    atomic_write_bytes(out / RECORD, (json.dumps(record, indent=2) + "\n").encode())


__all__ = [
    "LOCK",
    "RECORD",
    "holder",
    "locked",
    "make_dir",
    "read_record",
    "refuse_if_held",
    "write_record",
]
