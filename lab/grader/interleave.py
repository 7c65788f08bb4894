"""Two copies of the same code, forced to interleave at one window inside the first one's transaction.

A relay or a reconciler that is right when its passes run one after the other
can still be wrong when two run at once: the second reads what the first has
read but not yet marked, or takes rows whose locks the first has let go.
Timing never shows that reliably. So :func:`at_once` runs the code twice, on
two threads (each with its own database connection, like two processes),
and *places* the second one: copy A stops at the window (a statement of its
own, seen by ``connection.execute_wrapper``, a database-level hook: nothing
of the learner's code is replaced), copy B runs until it has made its own
claim, and only then does A go on.

"Until B has claimed" cannot mean "until B's claim returned" when A holds a
lock B's claim needs: B would wait for A while A waits for B. So A also goes
on as soon as B is *waiting for a lock*:

- PostgreSQL says so: ``pg_stat_activity.wait_event_type = 'Lock'`` for B's
  backend, polled from the calling thread's own connection;
- SQLite has one writer: B is certain to wait when it starts a write while A,
  paused inside its transaction, has written in that transaction (SQLite's
  readers never wait for a writer in WAL mode).

A deadline (``patience``) ends any other wait: A then goes on, and the run
says so (``forced`` is False). Nothing is timed: the checks read what the
copies did, never how long it took.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, connections

WRITES = ("insert", "update", "delete", "replace")


def first_word(sql: str) -> str:
    return sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""


@dataclass
class Copy:
    """What one copy did: its return value or error, and where it got to."""

    name: str
    result: object = None
    error: BaseException | None = None
    paused: bool = False  # A: reached its window
    claimed: bool = False  # B: its first read of the table, inside a transaction, returned
    waiting_to_write: bool = False  # B (SQLite): started a write while A held the write lock
    wrote_in_transaction: bool = False  # A (SQLite): holds the write lock
    backend_pid: int | None = None  # PostgreSQL: to ask whether it waits for a lock
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class Interleaving:
    first: Copy
    second: Copy
    window: str
    forced: bool = False  # B claimed (or waited for A's lock) while A stood at its window

    @property
    def copies(self):
        return (self.first, self.second)


def at_once(
    work: Callable[[], object],
    table: str,
    window: Callable[[str], bool],
    *,
    when: str = "before",
    patience: float = 5.0,
    timeout: float = 30.0,
    second_work: Callable[[], object] | None = None,
) -> Interleaving:
    """Run ``work()`` as copy A and copy B, on two threads, with B's claim placed in A's window.

    ``window(sql)`` names A's window: A stops ``when`` ("before" or "after") the
    first statement for which it is true, until B has read ``table`` inside a
    transaction (its claim), or waits for a lock of A's, or has finished.
    """
    first, second = Copy("relay A"), Copy("relay B")
    go_on = threading.Event()
    vendor = connection.vendor

    def wrapper_of(me: Copy) -> Callable:
        def wrapper(execute, sql, params, many, context):
            word = first_word(sql)
            if me is first:
                if word == "begin":
                    me.wrote_in_transaction = False
                at_window = not me.paused and window(sql)
                if at_window and when == "before":
                    stand(me)
                result = execute(sql, params, many, context)
                if word in WRITES and connection.in_atomic_block:
                    me.wrote_in_transaction = True
                if at_window and when == "after":
                    stand(me)
                return result
            if (
                vendor == "sqlite"
                and word in WRITES
                and first.paused
                and not go_on.is_set()
                and first.wrote_in_transaction
            ):
                me.waiting_to_write = True  # SQLite: this write waits for A's transaction to end
            result = execute(sql, params, many, context)
            if word == "select" and table in sql.lower() and connection.in_atomic_block:
                me.claimed = True
            return result

        return wrapper

    def stand(me: Copy) -> None:
        me.paused = True
        go_on.wait(timeout)

    def run(me: Copy, job: Callable[[], object]) -> None:
        try:
            if vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    me.backend_pid = cursor.fetchone()[0]
            with connection.execute_wrapper(wrapper_of(me)):
                me.result = job()
        except BaseException as error:  # reported by the caller, who says what went wrong
            me.error = error
        finally:
            if me is first:
                go_on.set()  # a copy that ended early never leaves the other waiting
            me.finished.set()
            connections.close_all()

    a = threading.Thread(target=run, args=(first, work), name="interleave-A", daemon=True)
    b = threading.Thread(target=run, args=(second, second_work or work), name="interleave-B", daemon=True)
    a.start()
    _until(lambda: first.paused or first.finished.is_set(), timeout)
    both = Interleaving(first, second, window=when)
    if first.paused:
        b.start()
        _until(lambda: second.claimed or second.finished.is_set() or _waits_for_a_lock(second, vendor), patience)
        both.forced = second.claimed or _waits_for_a_lock(second, vendor)
        go_on.set()
    else:
        b.start()  # A never reached its window: the copies ran one after the other
    a.join(timeout)
    b.join(timeout)
    return both


def _waits_for_a_lock(copy: Copy, vendor: str) -> bool:
    if copy.waiting_to_write:
        return True
    if vendor != "postgresql" or copy.backend_pid is None or copy.finished.is_set():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [copy.backend_pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def _until(condition: Callable[[], bool], deadline: float) -> bool:
    """Poll ``condition`` (a few milliseconds apart) until it holds or ``deadline`` seconds pass."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.002)
    return True
