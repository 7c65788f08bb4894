"""No exercise's answer can be copied from the project or a lesson before the learner has tried.

Each solution's distinctive code (every function, and every loop, ``with``,
``try`` or ``if`` inside one, whose normalised form is not in the starter
already) must not appear in ``workshop_project/`` or in a lesson's code
cells. "Normalised" is the syntax tree with every local name numbered in
order of appearance and every string made the same, so renaming variables
or rewording a comment does not hide a copy. Tiny pieces (under
``MIN_NODES`` nodes: ``pass``, ``return None``) are shared by everyone and
are not compared.
"""

import ast
import copy
import json
import re
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
MIN_NODES = 12
COMPOUND = (ast.For, ast.While, ast.With, ast.Try, ast.If)


class Normalise(ast.NodeTransformer):
    """Names numbered in order of first appearance, strings and docstrings made the same."""

    def __init__(self):
        self.names = {}

    def number(self, name):
        return self.names.setdefault(name, f"n{len(self.names)}")

    def visit_Name(self, node):
        return ast.Name(id=self.number(node.id), ctx=ast.Load())

    def visit_arg(self, node):
        return ast.arg(arg=self.number(node.arg))

    def visit_Constant(self, node):
        return ast.Constant(value="" if isinstance(node.value, str) else node.value)

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # a docstring says nothing about the code
        return self.generic_visit(node)


def shape(statements):
    """The normalised dump of ``statements`` and its size in nodes."""
    tree = Normalise().visit(ast.Module(body=copy.deepcopy(statements), type_ignores=[]))
    return ast.dump(tree, annotate_fields=False), sum(1 for _ in ast.walk(tree))


def pieces(tree):
    """(name, shape) of each function body and each compound statement inside a function, big enough."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for where, statements in [(node.name, node.body)] + [
                (f"{node.name}, line {inner.lineno}", [inner])
                for inner in ast.walk(node)
                if isinstance(inner, COMPOUND) and inner is not node
            ]:
                dumped, size = shape(statements)
                if size >= MIN_NODES:
                    yield where, dumped


def lesson_cells():
    """Each code cell of each lesson, as Python (IPython's %magic and !shell lines left out)."""
    for notebook in sorted((BASE / "notebooks").glob("*.ipynb")):
        for index, cell in enumerate(json.loads(notebook.read_text())["cells"]):
            if cell["cell_type"] == "code":
                python = re.sub(r"(?m)^\s*[%!].*$", "", "".join(cell["source"]))
                yield f"notebooks/{notebook.name}, cell {index}", python


def project_and_lessons():
    """Every piece of code a learner reads before an exercise: the project's modules, the lessons' cells."""
    modules = sorted(BASE.glob("workshop_project/**/*.py"))
    sources = [(str(path.relative_to(BASE)), path.read_text()) for path in modules]
    found = {}
    for where, text in sources + list(lesson_cells()):
        tree = ast.parse(text)
        for name, dumped in pieces(tree):
            found.setdefault(dumped, f"{where} ({name})")
        for statement in tree.body:  # a lesson's cell may hold the code outside any function
            dumped, size = shape([statement])
            if size >= MIN_NODES:
                found.setdefault(dumped, f"{where}, line {statement.lineno}")
    return found


SOLUTIONS = sorted(path for path in BASE.glob("solutions/ex*/*.py") if path.name != "__init__.py")


@pytest.fixture(scope="module")
def readable():
    return project_and_lessons()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_solution_piece_is_in_the_project_or_a_lesson(solution, readable):
    starter = BASE / "exercises" / ".starters" / solution.parent.name / f"{solution.name}.starter"
    given = {dumped for _, dumped in pieces(ast.parse(starter.read_text()))} if starter.exists() else set()
    copies = [
        f"{name} is in {readable[dumped]}"
        for name, dumped in pieces(ast.parse(solution.read_text()))
        if dumped not in given and dumped in readable
    ]
    assert not copies, f"{solution.relative_to(BASE)}: the answer can be copied before trying: " + "; ".join(copies)


def test_the_comparison_sees_a_renamed_copy():
    """The check itself can fail: a solution's function with every name changed is still found."""
    original = """
def relay(rows):
    for row in rows:
        try:
            send(row)
        except KeyError:
            row.attempts += 1
"""
    renamed = original.replace("relay", "other").replace("row", "item")
    assert {dumped for _, dumped in pieces(ast.parse(original))} & {dumped for _, dumped in pieces(ast.parse(renamed))}
