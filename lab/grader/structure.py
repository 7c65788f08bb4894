"""``workshop check``: is every exercise wired up everywhere it must be? No services needed.

Adding an exercise touches about ten places (CONTRIBUTING.md, "Adding an
exercise"); this names each one that is missing, in one line, so a
contributor finds out in a second instead of from a red CI run. It reads
files only: no database, no Redis, no notebook kernel.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from workshop_project import exercise_registry

MINIMUM_MUTANTS = 6  # tests/test_mutants.py grades them
#: Every exercise must list its promises (issue 16): on since every exercise lists them.
PROMISES_REQUIRED = True


def check_functions(grader: Path) -> set[str]:
    """The checks a grader file defines: its top-level ``test_*`` functions."""
    tree = ast.parse(grader.read_text(), filename=str(grader))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def promise_problems(exercise: exercise_registry.Exercise, checks: set[str], required: bool) -> list[str]:
    """Each promise of ``exercise`` (exercises.toml's ``[[<slug>.promises]]``) must say something and
    name at least one check its grader defines; with ``required``, it must have promises at all."""
    where = f"{exercise.slug}:"
    if not exercise.promises:
        if required:
            return [f"{where} exercises.toml lists no promises for it ([[{exercise.slug}.promises]]: says, checks)."]
        return []
    found = []
    for number, promise in enumerate(exercise.promises, 1):
        promise = promise if isinstance(promise, dict) else {}
        says, named = promise.get("says"), promise.get("checks")
        label = f"promise {number} ({says!r})" if isinstance(says, str) and says.strip() else f"promise {number}"
        if label == f"promise {number}":
            found.append(f"{where} promise {number} in exercises.toml has no `says` line saying what it promises.")
        if not isinstance(named, list) or not named:
            found.append(f'{where} {label} has no check: add checks = ["test_..."] naming the checks that hold it.')
            continue
        for check in named:
            if check not in checks:
                found.append(f"{where} {label} names the check {check!r}, which its grader does not define.")
    return found


def named_exercises(notebook: Path) -> set[str]:
    """The exercises a lesson sends the learner to: the slugs named in its code cells that call
    ``lesson.next_exercise``, ``lesson.grade`` or ``lesson.try_exercise`` (its "Your turn" cell,
    which only its "Check yourself" section follows)."""
    cells = json.loads(notebook.read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    turns = [source for source in sources if re.search(r"lesson\.(?:next_exercise|grade|try_exercise)\(", source)]
    return {slug for source in turns for slug in re.findall(r"[\"'](ex\d\d_\w+)[\"']", source)}


def table_rows(readme: str, first_column: str) -> set[str]:
    """The backquoted names in the first column of README tables whose header starts with ``first_column``."""
    names, inside = set(), False
    for line in readme.splitlines():
        if line.startswith(f"| {first_column}"):
            inside = True
        elif not line.startswith("|"):
            inside = False
        elif inside:
            names.update(re.findall(r"^\|\s*`([^`]+)`", line))
    return names


def problems(base_dir: Path) -> list[str]:
    """Every piece missing, one sentence each; an empty list when all is in place."""
    found = []
    exercises = exercise_registry.load(base_dir)
    registered = {exercise.slug for exercise in exercises}
    folders = {path.name for path in (base_dir / "exercises").glob("ex*") if path.is_dir()}
    for slug in sorted(folders - registered):
        found.append(f"exercises/{slug}/ is not registered in exercises/exercises.toml.")
    readme = (base_dir / "README.md").read_text()
    listed_exercises = table_rows(readme, "exercise")
    listed_lessons = table_rows(readme, "notebook")
    for exercise in exercises:
        folder = base_dir / "exercises" / exercise.slug
        where = f"{exercise.slug}:"
        learner_file = folder / exercise.file
        starter = base_dir / "exercises" / exercise_registry.STARTERS / exercise.slug / f"{exercise.file}.starter"
        solution = base_dir / "solutions" / exercise.slug / exercise.file
        graders = sorted(folder.glob("test_*.py"))
        if not learner_file.exists():
            found.append(f"{where} the learner's file exercises/{exercise.slug}/{exercise.file} is missing.")
        if not starter.exists():
            found.append(f"{where} its starter snapshot {starter.relative_to(base_dir)} is missing.")
        elif "TODO" not in starter.read_text():
            found.append(f"{where} its starter has no TODO saying what to do.")
        elif learner_file.exists() and learner_file.read_bytes() != starter.read_bytes():
            found.append(f"{where} exercises/{exercise.slug}/{exercise.file} differs from its starter snapshot.")
        for package in ("exercises", "solutions"):
            if not (base_dir / package / exercise.slug / "__init__.py").exists():
                found.append(f"{where} {package}/{exercise.slug}/__init__.py is missing.")
        if not solution.exists():
            found.append(f"{where} its solution solutions/{exercise.slug}/{exercise.file} is missing.")
        if not graders:
            found.append(f"{where} no grader (exercises/{exercise.slug}/test_*.py).")
        checks = set().union(*(check_functions(grader) for grader in graders)) if graders else set()
        if len(exercise.hints) < 2 or not all(isinstance(hint, str) and hint.strip() for hint in exercise.hints):
            found.append(f"{where} it needs at least two non-empty hints in exercises.toml.")
        found.extend(promise_problems(exercise, checks, PROMISES_REQUIRED))
        for check, number in exercise.checks.items():
            if check not in checks:
                found.append(f"{where} exercises.toml attaches a hint to {check}, which its grader does not define.")
            if not isinstance(number, int) or not 1 <= number <= len(exercise.hints):
                found.append(
                    f"{where} the hint number for {check} is {number!r}; it has hints 1 to {len(exercise.hints)}."
                )
        notebook = base_dir / "notebooks" / f"{exercise.lesson}.ipynb"
        if not notebook.exists():
            found.append(f"{where} its lesson notebooks/{exercise.lesson}.ipynb does not exist.")
        elif exercise.slug not in named_exercises(notebook):
            found.append(
                f"{where} notebooks/{exercise.lesson}.ipynb never sends the learner to it "
                f'(lesson.next_exercise("{exercise.slug}") in its "Your turn" cell).'
            )
        if exercise.slug not in listed_exercises:
            found.append(f"{where} README.md's exercise table does not list it.")
        mutants = list((base_dir / "tests" / "mutants" / exercise.slug).glob("*.py"))
        if len(mutants) < MINIMUM_MUTANTS:
            found.append(
                f"{where} tests/mutants/{exercise.slug}/ has {len(mutants)} wrong answers; "
                f"the grader's mutant suite needs {MINIMUM_MUTANTS}."
            )
    for notebook in sorted((base_dir / "notebooks").glob("[0-9]*.ipynb")):
        if notebook.stem not in listed_lessons:
            found.append(f"README.md's lesson table does not list {notebook.stem}.")
    return found
