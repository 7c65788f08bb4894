"""The portable test of lessons 03 to 05 and 08 (``lab/lessons/recipes/test_your_view.py``) sees the race.

It runs with pytest in its own process, as the lessons run it: with the
solved ``worker_in_the_block()`` it fails on the article's view and passes on
every fix; with the untouched starter's (which runs no worker) it cannot
pass at all, so its verdicts really come from the worker it is given.
"""

from lab.lessons import your_test
from lab.lessons.experiment import run_recipe

VIEWS = list(your_test.EXPECTED)


def test_it_fails_on_the_article_view_and_passes_on_every_fix():
    lines = your_test.verdicts(VIEWS)  # raises RecipeFailed when a verdict is not the expected one
    assert lines[0].startswith("with the solved worker_in_the_block()"), lines
    assert [line.split()[0] for line in lines[1:]] == [your_test.EXPECTED[view] for view in VIEWS], lines


def test_without_a_worker_no_view_passes():
    code, lines = run_recipe(your_test.RECIPE, "--tb=no", "-rA", "-k", "on_commit or in_job")
    verdicts = [line for line in lines if line.startswith(("PASSED", "FAILED"))]
    assert code == 1, lines
    assert len(verdicts) == 2, lines
    assert all(line.startswith("FAILED") for line in verdicts), verdicts
