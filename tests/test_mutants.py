"""The grader's own mutant suite: plausible wrong answers must be rejected, with a verdict.

``tests/mutants/<slug>/<name>.py`` is a copy of an exercise's file with one
mistake a real learner (or a real codebase) makes, named in its header
comment. Every mutant is graded by the real grader in a scratch copy of the
project, side by side with the solution, in ONE ``pytest exercises/`` run
(``--packages``: one package per mutant "column", and the solutions): the
solution must pass every check, and each mutant must fail at least one check
with a verdict (a check's own sentence, or an exception raised in the
mutant's own file), never with a crash of the grader ("The check stopped
with ..."). ``tests/accepted/<slug>/<name>.py`` are correct answers that
differ from ``solutions/`` (the alternatives learners found): they must pass.
"""

import re
import shutil
import time
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings

from workshop_project import exercise_registry

from .test_exercises import copy_of_the_project, grade

MUTANTS = settings.BASE_DIR / "tests" / "mutants"
ACCEPTED = settings.BASE_DIR / "tests" / "accepted"
MINIMUM = 6
EXERCISES = exercise_registry.load()


def mutants_of(exercise):
    return sorted((MUTANTS / exercise.slug).glob("*.py"))


def accepted_of(exercise):
    """Correct answers that differ from solutions/ (tests/accepted/): they must keep passing."""
    return sorted((ACCEPTED / exercise.slug).glob("*.py"))


def what_is_wrong(path):
    """The header comment: ``# WRONG: ...`` lines at the top of the mutant."""
    lines = [line.removeprefix("# WRONG:").strip() for line in path.read_text().splitlines() if line.startswith("#")]
    return " ".join(lines)


class MutantRun:
    """The scratch project, the grading run's JUnit report, and who is where."""

    def __init__(self, project, junit, output, seconds):
        self.output = output
        self.seconds = seconds
        self.cases = {}  # (package, slug) -> [(check, failed, sentence)]
        for case in ET.parse(junit).iter("testcase"):
            slug = case.get("classname").split(".")[1]
            package = re.search(r"\[([^\]-]+)", case.get("name") or "")
            properties = {prop.get("name"): prop.get("value") for prop in case.iter("property")}
            failed = any(child.tag in ("failure", "error") for child in case)
            key = (package.group(1) if package else "", slug)
            self.cases.setdefault(key, []).append((case.get("name"), failed, properties.get("sentence", "")))


def place(project, files_of, prefix):
    """Copy each exercise's files into packages ``<prefix>0``, ``<prefix>1``, ...: one file per
    exercise per package, so one grading run grades them all; returns {file: package}."""
    placed = {}
    for exercise in EXERCISES:
        for column, source in enumerate(files_of(exercise)):
            package = project / f"{prefix}{column}"
            folder = package / exercise.slug
            folder.mkdir(parents=True)
            (package / "__init__.py").write_text("")
            (folder / "__init__.py").write_text("")
            shutil.copyfile(source, folder / exercise.file)
            placed[source] = package.name
    return placed


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every mutant, every accepted alternative and every solution, graded in one run of the real grader."""
    project = copy_of_the_project(tmp_path_factory.mktemp("mutants-project"))
    placed = place(project, mutants_of, "mutant") | place(project, accepted_of, "accepted")
    packages = ",".join(["solutions", *sorted(set(placed.values()))])
    tmp = tmp_path_factory.mktemp("mutants-run")
    started = time.monotonic()
    # Every mutant's checks, each with its databases flushed after it: minutes on a busy machine.
    grading = grade("exercises/", f"--packages={packages}", "--durations=8", cwd=project, tmp_path=tmp, timeout=1200)
    seconds = time.monotonic() - started
    slowest = [line for line in grading.output.splitlines() if re.match(r"^\d+\.\d+s (call|setup|teardown)", line)]
    print(f"\nmutant suite: {len(placed)} files and the solutions in one grading run, {seconds:.1f} s; slowest:")
    print("\n".join(slowest))
    run = MutantRun(project, tmp / "junit.xml", grading.output, seconds)
    run.placed = placed
    return run


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_every_exercise_has_enough_mutants(exercise):
    mutants = mutants_of(exercise)
    assert len(mutants) >= MINIMUM, f"{exercise.slug} has {len(mutants)} mutants in tests/mutants/; {MINIMUM} needed"
    for mutant in mutants:
        assert what_is_wrong(mutant), f"{mutant.name} has no header comment saying what is wrong"


@pytest.mark.slow  # `graded`: every mutant through the real grader, a minute or more
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_the_solution_passes_beside_the_mutants(graded, exercise):
    checks = graded.cases.get(("solutions", exercise.slug))
    assert checks, graded.output[-3000:]
    failing = [(name, sentence) for name, failed, sentence in checks if failed]
    assert not failing, failing


MUTANT_FILES = [mutant for exercise in EXERCISES for mutant in mutants_of(exercise)]


@pytest.mark.slow  # `graded`: every mutant through the real grader, a minute or more
@pytest.mark.parametrize("mutant", MUTANT_FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_mutant_is_rejected_with_a_verdict(graded, mutant):
    checks = graded.cases.get((graded.placed[mutant], mutant.parent.name))
    assert checks, graded.output[-3000:]
    failing = [(name, sentence) for name, failed, sentence in checks if failed]
    assert failing, f"accepted: {mutant.name} ({what_is_wrong(mutant)})"
    crashes = [sentence for _, sentence in failing if not sentence or sentence.startswith("The check stopped")]
    assert not crashes, f"{mutant.name}: the grader crashed instead of giving a verdict: {crashes[0]!r}"


ACCEPTED_FILES = [path for exercise in EXERCISES for path in accepted_of(exercise)]


@pytest.mark.slow  # `graded`: every mutant through the real grader, a minute or more
@pytest.mark.parametrize("answer", ACCEPTED_FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_an_accepted_alternative_passes(graded, answer):
    checks = graded.cases.get((graded.placed[answer], answer.parent.name))
    assert checks, graded.output[-3000:]
    failing = [(name, sentence) for name, failed, sentence in checks if failed]
    assert not failing, f"{answer.name} is a correct answer, rejected: {failing[0]}"
