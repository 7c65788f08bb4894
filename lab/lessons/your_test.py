"""Lessons 03 to 05 and 08: run the portable test (``lab/lessons/recipes/test_your_view.py``) on some views.

It uses the learner's ``worker_in_the_block()`` (exercise 01) once the grader
has passed it, and the solved one until then, and says which. Each view's
verdict is one line: pytest's PASSED or FAILED with the test's own sentence.
"""

from lab.core import progress
from lab.lessons.experiment import RecipeFailed, run_recipe
from workshop_project import exercise_registry

RECIPE = "test_your_view.py"
TOOL = "ex01_reproduce"
#: What the lessons promise: the article's view fails (the race), every fix passes.
EXPECTED = dict.fromkeys(["autocommit", "non_atomic", "in_job", "on_commit"], "PASSED") | {"broken": "FAILED"}


def learner_tool_works():
    """Has exercise 01 been graded ✔ (and not changed since)?"""
    return progress.row_from_record(exercise_registry.find(TOOL), progress.load()).state == "done"


def verdict_of(view, lines):
    """pytest's summary line for ``view``, shortened to ``PASSED test[view]`` or ``FAILED ... - why``."""
    line = next((line for line in lines if f"[{view}]" in line), f"(no verdict for {view})")
    return line.replace(f"lab/lessons/recipes/{RECIPE}::test_the_job_finds_its_task", "test")


def verdicts(views):
    """Run the test on ``views``; return one line per view, after the tool that ran it."""
    mine = learner_tool_works()
    plugin = [] if mine else ["-p", "lab.lessons.recipes.solution_tool"]
    selection = " or ".join(f"[{view}]" for view in views)
    options = ["--tb=no", "--color=no", "-rA", "--nomigrations", "-k", selection, *plugin]  # tables from models: faster
    code, lines = run_recipe(RECIPE, *options, env={"COLUMNS": "200"})
    found = [line for line in lines if line.startswith(("PASSED", "FAILED", "ERROR"))]
    if code not in (0, 1) or not found:
        raise RecipeFailed(f"lab/lessons/recipes/{RECIPE} did not run:\n" + "\n".join(lines[-15:]))
    shown = [verdict_of(view, found) for view in views]
    wrong = [view for view, line in zip(views, shown, strict=True) if not line.startswith(EXPECTED[view])]
    if wrong and not mine:  # the lab's own promise, with the solved tool
        said = "\n".join(found)
        raise RecipeFailed(f"lab/lessons/recipes/{RECIPE} did not end as the lessons say for {wrong}:\n{said}")
    tool = "your worker_in_the_block()" if mine else "the solved worker_in_the_block() (exercise 01 is not passed yet)"
    notes = [f"  expected {EXPECTED[view]} for {view}: is your worker on its own thread?" for view in wrong]
    return [f"with {tool}:", *(f"  {line}" for line in shown), *notes]


def show(views):
    """Print ``verdicts(views)``."""
    print("\n".join(verdicts(views)))
