"""pytest plugin (``-p lab.lessons.recipes.solution_tool``): the recipes import exercise 01's solved tool.

Lessons 03 to 05 run ``test_your_view.py`` with the learner's own
``worker_in_the_block()`` once exercise 01 passes, and with the solved one
until then (saying so), so the test's verdicts are right either way.
"""

import importlib
import sys

import pytest

LEARNER = "exercises.ex01_reproduce.reproduce"


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    sys.modules[LEARNER] = importlib.import_module(LEARNER.replace("exercises.", "solutions.", 1))
