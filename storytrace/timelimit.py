"""Bound the time of one item: a document that ingest prepares, or one analysis stage over one article.

``time_limit(seconds, what)`` arms two interval timers:

- ``ITIMER_PROF`` at ``seconds`` of **CPU time** (user + system) of the process: SIGPROF then raises
  ``ItemTimeLimitError`` in the code running the item. CPU time, not wall time, so that the limit means the
  same on a free machine and on an oversubscribed one: at load 30 and ``nice 15`` a long genuine article took
  1,915 s of wall time for 21 s of CPU (docs/reliability.md), and a wall-time limit stopped it.
- ``ITIMER_REAL`` at ``WALL_FACTOR`` times ``seconds`` of wall time, a backstop for an item that waits
  without working (a lock that never comes free), which CPU time alone would never stop.

The caller turns the error into that item's per-item error while the rest of the batch goes on. The item's
result is dropped whole, so nothing partial reaches the store.

Where it applies: the main thread of a Unix process, which is where items run (in-process runs, the
process-pool workers of ``--jobs N``, which run their tasks in their main thread, and Spark's Python workers).
Elsewhere it runs the item without a limit: in another thread (signal handlers can only be set from the main
thread; e.g. a web request thread), on platforms without ``setitimer`` (Windows), and when either timer is
already pending in the process (it is someone else's: a test harness, a fuzzer, a profiler), which it leaves
alone.

The CPU timer counts the whole process, so another busy thread in it would bring the limit closer; items run
in processes whose other threads are idle (a progress bar at most). Python runs signal handlers between
bytecodes, so one long call into C (a regular expression, lxml's parser) is interrupted only once it
returns. A body that catches the error and goes on is hit again every second, and its result is discarded
anyway.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from storytrace.errors import ItemTimeLimitError

# After the first signal, fire again this often, in case the item's code caught the error and went on.
_REPEAT_SECONDS = 1.0
# A signal whose error was swallowed (raised in a gc callback, a finalizer, a weakref callback) fires again this soon.
_RETRY_SECONDS = 0.01
# The wall-time backstop, as a multiple of the CPU-time limit: far enough that only an item that is not
# working (waiting) meets it first, even at load 10 and low priority.
WALL_FACTOR = 10.0
_TIMERS = ((signal.ITIMER_PROF, signal.SIGPROF), (signal.ITIMER_REAL, signal.SIGALRM)) \
    if hasattr(signal, "setitimer") else ()


def available() -> bool:
    """Whether a time limit can be armed here (Unix, the main thread, no timer already pending)."""
    return (bool(_TIMERS) and threading.current_thread() is threading.main_thread()
            and all(signal.getitimer(timer) == (0.0, 0.0) for timer, _ in _TIMERS))


class time_limit:  # noqa: N801 - used as a context manager, like contextlib's
    """Raise ``ItemTimeLimitError`` once the ``with`` block has used ``seconds`` of CPU time, or run
    ``WALL_FACTOR * seconds`` of wall time (0 or less: no limit).

    ``what`` names the item in the message ("stage 'dates' on article 3f2a..."). ``armed`` says whether the limit
    applies (see the module docstring for where it cannot).
    """

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.armed = False
        self.fired = False
        self._wall = False  # which timer fired: the wall-time backstop or the CPU-time limit
        self._previous: dict[int, object] = {}
        self._previous_hook: Callable[[sys.UnraisableHookArgs], object] | None = None

    def _error(self) -> ItemTimeLimitError:
        how = (f"ran {self.seconds * WALL_FACTOR:g} s of wall time without finishing (a wait, not work; the "
               f"backstop is {WALL_FACTOR:g}x max_item_seconds)" if self._wall
               else f"took longer than {self.seconds:g} s of CPU time (max_item_seconds)")
        return ItemTimeLimitError(
            f"{self.what} {how} and was stopped; nothing of it was stored. If the input is genuine, raise the "
            "limit (--max-item-seconds or STORYTRACE_MAX_ITEM_SECONDS)")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.armed:  # a signal that lands while the block is being left is ignored
            self.fired = True
            self._wall = self._wall or signum == signal.SIGALRM
            raise self._error()

    def _on_unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        """Our error raised where Python cannot pass it on (a garbage-collector callback, a finalizer, a weakref
        callback: it reports it as "unraisable" and goes on) is not lost: the timer fires again as soon as that
        code has returned. Anything else goes to the hook that was there before."""
        if self.armed and isinstance(unraisable.exc_value, ItemTimeLimitError):
            signal.setitimer(signal.ITIMER_REAL if self._wall else signal.ITIMER_PROF, _RETRY_SECONDS, _REPEAT_SECONDS)
            return
        (self._previous_hook or sys.__unraisablehook__)(unraisable)

    def __enter__(self) -> time_limit:
        if self.seconds <= 0 or not available():
            return self
        for _timer, signum in _TIMERS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._on_unraisable
        self.armed = True
        signal.setitimer(signal.ITIMER_PROF, self.seconds, _REPEAT_SECONDS)
        signal.setitimer(signal.ITIMER_REAL, self.seconds * WALL_FACTOR, _REPEAT_SECONDS)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.armed:
            return
        self.armed = False
        for timer, signum in _TIMERS:
            signal.setitimer(timer, 0)
            previous = self._previous.pop(signum)
            # None: the previous handler was not set from Python; the default is the closest we can restore.
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)  # type: ignore[arg-type]
        sys.unraisablehook, self._previous_hook = self._previous_hook or sys.__unraisablehook__, None
        if self.fired and not isinstance(exc, ItemTimeLimitError):
            # The block caught the error and finished (or failed some other way): its result may be partial.
            raise self._error() from exc
