"""A time limit on the learner's code: it fails its check in seconds, and never hangs pytest.

A check calls the learner's code on pytest's main thread: a ``join()`` that
never returns, a worker that never stops, a loop that waits for a job that
never comes would block the grader for ever. :func:`time_limit` gives the
block a deadline. At the deadline a watchdog thread sends the main thread a
real signal (``SIGUSR2``, with ``pthread_kill``: it also wakes a blocked
``join()`` or socket read, where a mere flag would wait) whose handler raises
:class:`OutOfTime` there, and again every second in case the code swallowed
it. ``SIGALRM`` is left alone: rq's own job timeout uses it, on the main
thread, and cancels any alarm when a job ends. If the code is still stuck
``BACKSTOP`` seconds later (a C call that ignores signals), ``faulthandler``
prints every thread's stack and ends the process: a grader that stops with
a traceback beats one that never stops.

:func:`left_running` then gives the threads a check started (and did not
join) a few seconds to end, stops those it can (an asynchronous
``OutOfTime`` in the thread), and names them.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

#: Seconds a check may take (the call of the learner's code, or the import of the learner's file).
#: The slowest solution's check takes under 2 s on a loaded two-core machine; WORKSHOP_CHECK_SECONDS moves it.
LIMIT = float(os.environ.get("WORKSHOP_CHECK_SECONDS", "15"))
#: Seconds a thread the check started may go on running after the check ended.
GRACE = 3.0
#: Seconds after the deadline when a block that ignores OutOfTime ends the process (with every thread's stack).
BACKSTOP = 30.0
SIGNAL = getattr(signal, "SIGUSR2", None)


class OutOfTime(BaseException):  # noqa: N818 (a BaseException, like KeyboardInterrupt: `except Exception` lets it through)
    """The learner's code ran past its check's time limit."""

    def __init__(self, seconds: float = GRACE, what: str = "the check ended"):
        super().__init__(f"still running {seconds:g} s after {what}")
        self.seconds = seconds
        self.what = what


@contextmanager
def time_limit(seconds: float = LIMIT, what: str = "your code") -> Iterator[None]:
    """Raise :class:`OutOfTime` in the block (on the main thread) once it has run ``seconds``."""
    on_main = threading.current_thread() is threading.main_thread() and SIGNAL is not None
    finished = threading.Event()
    if on_main:
        main = threading.get_ident()

        def handler(signum, frame):
            if not finished.is_set():
                raise OutOfTime(seconds, what)

        previous = signal.signal(SIGNAL, handler)

        def watchdog():
            if finished.wait(seconds):
                return
            while not finished.is_set():
                signal.pthread_kill(main, SIGNAL)
                finished.wait(1.0)

        threading.Thread(target=watchdog, name="grader-deadline", daemon=True).start()
    faulthandler.dump_traceback_later(seconds + BACKSTOP, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        finished.set()
        faulthandler.cancel_dump_traceback_later()
        if on_main:
            signal.signal(SIGNAL, previous)


def describe_out_of_time(error: OutOfTime, tb=None) -> str:
    """``Your code was still running 15 s after the check started (it was at reproduce.py, line 40): ...``"""
    from workshop_project.exercise_registry import relative

    from .grading import is_learner_code

    mine = [frame for frame in traceback.extract_tb(tb or error.__traceback__) if is_learner_code(frame.filename)]
    where = f" (it was at {relative(mine[-1].filename)}, line {mine[-1].lineno})" if mine else ""
    return (
        f"Your code was still running {error.seconds:g} s after {error.what}{where}; expected it to return: "
        "does it wait for something that never happens (a thread never joined, a worker without burst=True, "
        "a loop waiting for a job)?"
    )


def threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def where_started(thread: threading.Thread) -> str:
    """``reproduce.py, line 54`` for a thread whose target is a learner's function; '' if unknown."""
    target = getattr(thread, "_target", None)
    code = getattr(target, "__code__", None) or getattr(getattr(target, "__func__", None), "__code__", None)
    if code is None:
        return ""
    return f"{os.path.basename(code.co_filename)}, line {code.co_firstlineno}"


def _a_librarys_own(thread: threading.Thread) -> bool:
    """A daemon thread of a library's own Thread subclass (redis-py's pub/sub thread, which rq's
    worker stops but waits for only a second), or the grader's watchdog: not the learner's doing."""
    if thread.name == "grader-deadline":
        return True
    kind = type(thread)
    if not thread.daemon or kind in (threading.Thread, threading.Timer):
        return False
    filename = getattr(sys.modules.get(kind.__module__), "__file__", "") or ""
    return "site-packages" in filename or filename.startswith(tuple({sys.prefix, sys.base_prefix}))


def stop(thread: threading.Thread) -> None:
    """Raise OutOfTime in ``thread`` when it next runs Python code (CPython's PyThreadState_SetAsyncExc)."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(OutOfTime))


def left_running(before: set[threading.Thread], grace: float = GRACE) -> list[threading.Thread]:
    """The threads started since ``before`` that are still running ``grace`` seconds from now
    (each is then asked to stop; a daemon thread that does not is left to die with the process)."""
    deadline = time.monotonic() + grace
    started = [thread for thread in threads() - before if thread.is_alive() and not _a_librarys_own(thread)]
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [thread for thread in started if thread.is_alive()]
    for thread in alive:
        stop(thread)
    for thread in alive:
        thread.join(0.5)
    return alive


def describe_left(alive: list[threading.Thread], grace: float = GRACE) -> str:
    names = ", ".join(
        f"{thread.name}" + (f" ({where})" if (where := where_started(thread)) else "") for thread in alive[:3]
    )
    it = "it was" if len(alive) == 1 else "they were"
    return (
        f"Your code left {len(alive)} thread{'s' if len(alive) > 1 else ''} running ({names}): {it} still running "
        f"{grace:g} s after the check ended; expected every thread it starts to end before it returns "
        "(join() it, and stop a worker with burst=True)"
    )


def keep_exit_from_hanging(leftovers: list[threading.Thread], status: int) -> None:
    """At the end of the run: a non-daemon thread the learner left running would keep the interpreter
    from exiting (Python joins them at exit). End the process instead, with pytest's exit status."""
    if any(thread.is_alive() and not thread.daemon for thread in leftovers):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
