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
as with PostgreSQL.
"""

import fcntl
import threading
from pathlib import Path

from django.conf import settings
from django.db import connections, router

_lock = threading.Lock()  # flock is per open file: threads of one process take turns here first


def next_id(model, using=None):
    """The next id for a new ``model`` row, or None where the database has a real sequence."""
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return None
    table = model._meta.db_table
    name = Path(str(connection.settings_dict["NAME"])).name
    path = Path(settings.DATA_DIR) / "ids" / f"{name}.{table}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.seek(0)
            last = int(file.read().strip() or 0)
            with connection.cursor() as cursor:  # rows made before this file existed
                cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608 (a model's own table)
                last = max(last, cursor.fetchone()[0])
            file.seek(0)
            file.truncate()
            file.write(f"{last + 1}\n")
            file.flush()
            return last + 1
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
