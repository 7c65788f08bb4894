"""Each lesson's length and how long it took to execute, for ``workshop check`` and the notebook tests.

The length is the lesson's prose: the words of its Markdown cells, without
fenced code blocks (what a learner reads; code is counted by the time it
takes to run). The time is the one ``tests/test_notebooks.py`` measured the
last time it executed the lesson, kept in ``data/notebook-times.json``
(ignored by git): a lesson never executed here says "not measured".
"""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

#: A lesson a learner reads in about ten minutes; tests/test_notebooks.py holds every lesson to it.
MAX_WORDS = 1250
FENCE = re.compile(r"```.*?```", re.DOTALL)


def prose_words(notebook: Path) -> int:
    """Words in the lesson's Markdown cells, outside ``` fences."""
    cells = json.loads(notebook.read_text())["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return len(FENCE.sub("", text).split())


def times_path(base_dir: Path) -> Path:
    return Path(base_dir) / "data" / "notebook-times.json"


def recorded_times(base_dir: Path) -> dict:
    """{lesson: {"seconds", "database", "at"}} as last recorded; empty when never measured here."""
    try:
        return json.loads(times_path(base_dir).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def record_time(base_dir: Path, lesson: str, seconds: float, database: str) -> None:
    """Keep one lesson's executed time (the notebook tests call it after each lesson)."""
    times = recorded_times(base_dir)
    times[lesson] = {
        "seconds": round(seconds, 1),
        "database": database,
        "at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    }
    path = times_path(base_dir)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")


def report(base_dir: Path) -> list[str]:
    """One line per lesson: its words and its last executed time; then the totals."""
    times = recorded_times(base_dir)
    lessons = sorted((Path(base_dir) / "notebooks").glob("[0-9]*.ipynb"))
    width = max((len(path.stem) for path in lessons), default=10)
    lines, words, seconds = [], 0, 0.0
    for path in lessons:
        count, timed = prose_words(path), times.get(path.stem)
        words += count
        when = "not measured"
        if timed:
            seconds += timed["seconds"]
            when = f"{timed['seconds']:5.1f} s ({timed['database']}, {timed['at']})"
        flag = "  over the limit" if count > MAX_WORDS else ""
        lines.append(f"  {path.stem:<{width}} {count:6,} words  {when}{flag}")
    measured = sum(path.stem in times for path in lessons)
    lines.append(f"  {'total':<{width}} {words:6,} words  {seconds:5.1f} s for the {measured} lessons measured")
    return lines
