"""Your progress through the exercises, and putting an exercise back to its starter.

The grader records every exercise it grades in ``progress.json`` in the data
folder (with a fingerprint of the file it graded); ``workshop progress``
prints the same table from that record without running anything, and says
which files changed since they were graded.

``reset`` restores an exercise's starter from its pristine copy in
``exercises/.starters/`` and first copies the learner's version to
``exercises/backups/<slug>/`` (under a timestamp), so no work is ever lost.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from workshop_project import exercise_registry

PROGRESS_FILE = "progress.json"
BACKUPS = "backups"

# What each state looks like in the table.
SYMBOL = {"done": "✔", "failing": "✘", "not started": "·", "edited": "…"}


def progress_path():
    return Path(settings.DATA_DIR) / PROGRESS_FILE


def digest(path):
    """A fingerprint of a file's content (None if it does not exist)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def is_starter(exercise):
    """Is the learner's file still exactly the starter?"""
    return digest(exercise.path()) == digest(exercise.starter_path())


def load():
    try:
        return json.loads(progress_path().read_text())
    except (FileNotFoundError, ValueError):
        return {}


@contextmanager
def progress_lock():
    """One change of ``progress.json`` at a time, across processes: a grading run records,
    a reset forgets, each reads the file, changes it and writes it back; without one lock a
    reset in another process brought back a record just removed.

    ``fcntl.flock`` on a file beside it: filelock is not in the lock file, flock is in the
    standard library on Linux and macOS (the workshop's platforms; Windows runs it in
    Docker), and the kernel releases it when a process dies. Each call opens the file
    anew, so threads of one process wait for each other too.
    """
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{PROGRESS_FILE}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _save(records):
    """A temporary file of its own (tempfile, in the same folder), then ``os.replace``: never
    half-written, and never another writer's temporary file (one fixed name raised
    FileNotFoundError when two processes wrote at once)."""
    write_durably(progress_path(), (json.dumps(records, indent=1, sort_keys=True) + "\n").encode())


def record(results):
    """Remember this grading run: ``{slug: (passed, first failure sentence or "")}``."""
    with progress_lock():
        records = load()
        now = datetime.now().isoformat(timespec="seconds")
        for slug, (passed, message) in results.items():
            exercise = exercise_registry.find(slug)
            records[slug] = {"passed": passed, "message": message, "graded": now, "digest": digest(exercise.path())}
        _save(records)


def forget(slug):
    with progress_lock():
        records = load()
        if records.pop(slug, None) is not None:
            _save(records)


@dataclass
class Row:
    exercise: exercise_registry.Exercise
    state: str  # a key of SYMBOL
    note: str = ""

    def __str__(self):
        ex = self.exercise
        line = f"{SYMBOL[self.state]} ex{ex.number}  {ex.title:<48} lesson {ex.lesson}"
        return f"{line}  ({self.note})" if self.note else line


def row_from_record(exercise, records):
    """The state of an exercise as last graded, and whether its file changed since."""
    saved = records.get(exercise.slug)
    if saved and saved.get("digest") == digest(exercise.path()):
        if saved["passed"]:
            return Row(exercise, "done")
        return Row(exercise, "failing", "still the starter" if is_starter(exercise) else "")
    if is_starter(exercise):
        return Row(exercise, "not started")
    if saved:
        return Row(exercise, "edited", f"changed since graded: pytest exercises/{exercise.slug}")
    return Row(exercise, "edited", f"not graded yet: pytest exercises/{exercise.slug}")


def rows(graded=None):
    """One row per exercise: from this run's ``graded`` results where given, else from the record."""
    graded = graded or {}
    records = load()
    result = []
    for exercise in exercise_registry.load():
        if exercise.slug in graded:
            passed = graded[exercise.slug]
            note = "" if passed or not is_starter(exercise) else "still the starter"
            result.append(Row(exercise, "done" if passed else "failing", note))
        else:
            result.append(row_from_record(exercise, records))
    return result


def summary(table_rows):
    done = sum(row.state == "done" for row in table_rows)
    return f"{done} of {len(table_rows)} exercises done."


def backup_path(exercise, now=None):
    """``exercises/backups/ex04_on_commit/views-20261128-094700.py`` (never an existing file)."""
    folder = settings.BASE_DIR / "exercises" / BACKUPS / exercise.slug
    stem, suffix = Path(exercise.file).stem, Path(exercise.file).suffix
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate, n = folder / f"{stem}-{stamp}{suffix}", 1
    while candidate.exists():
        candidate, n = folder / f"{stem}-{stamp}-{n}{suffix}", n + 1
    return candidate


@contextmanager
def exercise_lock(exercise):
    """One reset of an exercise at a time, across threads and processes (an flock on a file
    in the data folder). Two resets at once could otherwise both read the learner's file,
    and the second back up the starter the first had just written."""
    folder = Path(settings.DATA_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    with _thread_lock, open(folder / f"reset-{exercise.slug}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_thread_lock = threading.Lock()  # flock is per open file: threads of one process need this too


def write_durably(path, content):
    """Write ``content`` to a temporary name next to ``path``, fsync it, then rename it into
    place: ``path`` is never seen half-written, whatever happens meanwhile."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # the rename itself, on disk (not possible on every OS)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


@dataclass
class Reset:
    """What ``reset`` did: ``"restored"`` (the learner's version is in ``backup``),
    ``"missing"`` (there was no file: the starter is back, nothing to keep) or
    ``"already"`` (the file was the starter: nothing done)."""

    state: str
    backup: Path | None = None


def reset(exercise, now=None):
    """Put the starter back; the learner's version is first kept, complete, in a new backup file."""
    path, starter = exercise.path(), exercise.starter_path()
    if not starter.exists():
        raise FileNotFoundError(f"the starter of {exercise.slug} is missing ({exercise_registry.relative(starter)})")
    pristine = starter.read_bytes()
    with exercise_lock(exercise):
        try:
            original = path.read_bytes()
        except FileNotFoundError:
            write_durably(path, pristine)
            forget(exercise.slug)
            return Reset("missing")
        if original == pristine:
            return Reset("already")
        backup = backup_path(exercise, now)
        backup.parent.mkdir(parents=True, exist_ok=True)
        write_durably(backup, original)
        if backup.read_bytes() != original:  # never overwrite work that is not safely copied
            raise OSError(
                f"could not back up {exercise_registry.relative(path)} to {exercise_registry.relative(backup)}"
            )
        write_durably(path, pristine)
        forget(exercise.slug)
        return Reset("restored", backup)
