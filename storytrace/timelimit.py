"""Bound the wall time of one item: a document that ingest prepares, or one analysis stage over one article.

``time_limit(seconds, what)`` arms ``setitimer(ITIMER_REAL)``; SIGALRM then raises ``ItemTimeLimitError`` in
the code running the item, wherever it is, and the caller turns it into that item's per-item error while the
rest of the batch goes on. The item's result is dropped whole, so nothing partial reaches the store.

Where it applies: the main thread of a Unix process, which is where items run (in-process runs, the
process-pool workers of ``--jobs N``, which run their tasks in their main thread, and Spark's Python workers).
Elsewhere it runs the item without a limit: in another thread (signal handlers can only be set from the main
thread; e.g. a web request thread), on platforms without ``setitimer`` (Windows), and when a timer is already
pending in the process (it is someone else's: a test harness, a fuzzer), which it leaves alone.

Python runs signal handlers between bytecodes, so one long call into C (a regular expression, lxml's parser)
is interrupted only once it returns. A body that catches the error and goes on is hit again every second, and
its result is discarded anyway.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType, TracebackType

from storytrace.errors import ItemTimeLimitError

# After the first alarm, fire again this often, in case the item's code caught the error and went on.
_REPEAT_SECONDS = 1.0


def available() -> bool:
    """Whether a time limit can be armed here (Unix, the main thread, no timer already pending)."""
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


class time_limit:  # noqa: N801 - used as a context manager, like contextlib's
    """Raise ``ItemTimeLimitError`` in the ``with`` block once it has run ``seconds`` (0 or less: no limit).

    ``what`` names the item in the message ("stage 'dates' on article 3f2a..."). ``armed`` says whether the limit
    applies (see the module docstring for where it cannot).
    """

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.armed = False
        self.fired = False
        self._started = 0.0
        self._previous: signal.Handlers | int | object = None

    def _error(self) -> ItemTimeLimitError:
        return ItemTimeLimitError(
            f"{self.what} took longer than {self.seconds:g} s (max_item_seconds) and was stopped; nothing of it "
            "was stored. If the input is genuine, raise the limit (--max-item-seconds or "
            "STORYTRACE_MAX_ITEM_SECONDS)")

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self.armed:  # an alarm that lands while the block is being left is ignored
            self.fired = True
            raise self._error()

    def __enter__(self) -> time_limit:
        if self.seconds <= 0 or not available():
            return self
        self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
        self.armed = True
        self._started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.seconds, _REPEAT_SECONDS)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.armed:
            return
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        # None: the previous handler was not set from Python; the default is the closest we can restore.
        signal.signal(signal.SIGALRM, signal.SIG_DFL if self._previous is None else self._previous)  # type: ignore[arg-type]
        if self.fired and not isinstance(exc, ItemTimeLimitError):
            # The block caught the error and finished (or failed some other way): its result may be partial.
            raise self._error() from exc
