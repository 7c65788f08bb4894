"""Your progress through the exercises, and putting an exercise back to its starter.

The grader records every exercise it grades in ``progress.json`` in the data
folder (with a fingerprint of the file it graded); ``workshop progress``
prints the same table from that record without running anything, and says
which files changed since they were graded.

``reset`` restores an exercise's starter from its pristine copy in
``exercises/.starters/`` and first copies the learner's version to
``exercises/backups/<slug>/`` (under a timestamp), so no work is ever lost.
"""

import hashlib
import json
import os
import shutil
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


def _save(records):
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, path)


def record(results):
    """Remember this grading run: ``{slug: (passed, first failure sentence or "")}``."""
    records = load()
    now = datetime.now().isoformat(timespec="seconds")
    for slug, (passed, message) in results.items():
        exercise = exercise_registry.find(slug)
        records[slug] = {"passed": passed, "message": message, "graded": now, "digest": digest(exercise.path())}
    _save(records)


def forget(slug):
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


def reset(exercise, now=None):
    """Put the starter back; return where the learner's version was kept (None if it was the starter)."""
    path, starter = exercise.path(), exercise.starter_path()
    if not starter.exists():
        raise FileNotFoundError(f"the starter of {exercise.slug} is missing ({exercise_registry.relative(starter)})")
    backup = None
    if path.exists():
        original = path.read_bytes()
        if original == starter.read_bytes():
            return None
        backup = backup_path(exercise, now)
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, backup)
        if backup.read_bytes() != original:  # never overwrite work that is not safely copied
            raise OSError(
                f"could not back up {exercise_registry.relative(path)} to {exercise_registry.relative(backup)}"
            )
    shutil.copyfile(starter, path)
    forget(exercise.slug)
    return backup
