"""The write lock: one writing command (ingest, analyze) per store at a time, across processes.

SQLite already serialises transactions, but two ``analyze`` runs interleaving their batches would
each compute the same stale results and race to store them; a second command is refused at once
(or waits ``wait`` seconds) with a message naming the command that holds the store.

The lock is an advisory POSIX record lock (``fcntl.lockf``) on ``<store>.lock`` beside the database.
The operating system drops it when its holder exits for any reason, SIGKILL included, so a crash never
leaves a stale lock behind; and unlike ``flock`` it is not inherited by forked children, so the worker
processes of a killed ``analyze --jobs N`` cannot keep holding it. POSIX locks are per process, so
locks taken in this process are also kept in ``_HELD`` (a second ``Store`` on the same file in one
process is refused too). The file itself stays (removing a lock file while others may open it is a race); it
holds the current holder's pid, command and start time as JSON, for the message.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from storytrace.errors import StoreBusyError, StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; SQLite's own locking still applies
    fcntl = None  # type: ignore[assignment]

POLL_SECONDS = 0.2
_HELD: dict[str, int] = {}  # lock file -> pid that took it (a forked child inherits this dict, not the lock)


def lock_path(db: Path) -> Path:
    return Path(f"{db}.lock")


class WriteLock:
    """An exclusive advisory lock on ``<db>.lock``; ``acquire`` refuses or waits, ``release`` frees it."""

    def __init__(self, db: Path) -> None:
        self.path = lock_path(db)
        self.db = db
        self.handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self.handle is not None

    def acquire(self, command: str, *, wait: float = 0.0) -> None:
        """Take the lock for ``command``; raise StoreBusyError if another process holds it past ``wait`` s."""
        if self.handle is not None or fcntl is None:
            return
        key = str(self.path.resolve())
        deadline = time.monotonic() + max(wait, 0.0)
        while _HELD.get(key) == os.getpid():  # another Store of this process holds it: POSIX locks would not say
            if time.monotonic() >= deadline:
                raise StoreBusyError(_busy_message(self.db, command, {"pid": os.getpid(), "command": "another "
                                                   "command of this process", "host": socket.gethostname()}, wait))
            time.sleep(POLL_SECONDS)
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror}; the store's folder must be "
                             "writable for ingest and analyze", code="E208") from exc
        while True:
            try:
                fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:  # EAGAIN / EACCES: another process holds it
                if time.monotonic() >= deadline:
                    holder = _read_holder(handle)
                    handle.close()
                    raise StoreBusyError(_busy_message(self.db, command, holder, wait)) from None
                time.sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S %Z")}))
        handle.flush()
        self.handle = handle
        _HELD[key] = os.getpid()

    def release(self) -> None:
        if self.handle is None:
            return
        try:
            self.handle.seek(0)
            self.handle.truncate()
        except OSError:  # a full disk must not stop the unlock
            pass
        finally:
            _HELD.pop(str(self.path.resolve()), None)
            if fcntl is not None:
                fcntl.lockf(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def _read_holder(handle: IO[str]) -> dict[str, Any]:
    try:
        handle.seek(0)
        found = json.loads(handle.read() or "{}")
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


def _busy_message(db: Path, command: str, holder: dict[str, Any], wait: float) -> str:
    who = (f"'storytrace {holder.get('command', '?')}' (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
           f"since {holder.get('since', '?')})") if holder else "another storytrace command"
    waited = f" after waiting {wait:g} s" if wait > 0 else ""
    return (f"cannot start '{command.split(' ', 1)[0]}'{waited}: {who} is writing to the store {db}. One command "
            "writes to a store at a time: wait for it to finish and run this again (or set STORYTRACE_LOCK_WAIT "
            "to a number of seconds to wait)")
