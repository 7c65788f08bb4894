"""lab/ by audience: who may import whom, and who imports what (lab/__init__.py's map).

A few lines over ``ast`` rather than a tool: the rule is small, and the test
shows its own check failing on a lesson module that imports the grader.
"""

import ast
import json

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR
LAB = ROOT / "lab"

#: For each audience package, the lab packages it must never import.
FORBIDDEN = {
    "lab.lessons": {"lab.grader", "lab.management"},
    "lab.grader": {"lab.lessons", "lab.management"},
    "lab.core": {"lab.lessons", "lab.grader", "lab.management"},
    "lab.stack": {"lab.core", "lab.lessons", "lab.grader", "lab.management"},
    "lab.testing": {"lab.core", "lab.stack", "lab.lessons", "lab.grader", "lab.management"},
}
LIMIT = 300


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at the top or inside a function, as a dotted name."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(package: str, source: str) -> list[str]:
    """The imports of ``source`` (a module of ``package``) that cross its floor."""
    return sorted(
        module for module in imported_modules(source) for banned in FORBIDDEN[package] if within(module, banned)
    )


def modules_of(package: str):
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_audience_imports_only_what_it_may(package):
    crossings = {}
    for path in modules_of(package):
        if bad := violations(package, path.read_text()):
            crossings[str(path.relative_to(ROOT))] = bad
    assert not crossings, f"imports that cross lab/'s floors (lab/__init__.py): {crossings}"


def test_the_check_catches_a_lesson_that_imports_the_grader():
    assert violations("lab.lessons", "from lab.grader import grading\n") == ["lab.grader", "lab.grader.grading"]
    assert violations("lab.lessons", "def f():\n    import lab.grader.plugin\n") == ["lab.grader.plugin"]
    assert violations("lab.grader", "from lab.lessons.race import run\n")
    assert not violations("lab.lessons", "from lab.core import outcomes\n")


def test_graders_import_only_the_grader_package():
    files = [*ROOT.glob("exercises/**/*.py"), *ROOT.glob("solutions/**/*.py")]
    wrong = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path.read_text()) if within(m, "lab"))
        for path in files
    }
    wrong = {path: [m for m in mods if not within(m, "lab.grader")] for path, mods in wrong.items()}
    assert not {path: mods for path, mods in wrong.items() if mods}, wrong


def test_notebooks_import_only_the_lessons_package():
    wrong = {}
    for path in sorted(ROOT.glob("notebooks/*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        mods = [m for m in imported_modules(source) if within(m, "lab") and not within(m, "lab.lessons")]
        if mods:
            wrong[path.name] = mods
    assert not wrong, f"notebooks must import from lab.lessons only: {wrong}"


def test_what_lab_lessons_offers_resolves():
    import lab.lessons

    for name in [*lab.lessons._MODULES, *lab.lessons._NAMES]:
        assert getattr(lab.lessons, name) is not None


def test_no_module_over_the_limit():
    long = {
        str(path.relative_to(ROOT)): n
        for folder in ("lab", "workshop_project")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and (n := len(path.read_text().splitlines())) > LIMIT
    }
    assert not long, f"modules over {LIMIT} lines: {long}"


def test_lab_has_no_loose_modules():
    """Every module lives in its audience's package (lab/__init__.py and apps.py excepted)."""
    loose = sorted(p.name for p in LAB.glob("*.py") if p.name not in {"__init__.py", "apps.py"})
    assert not loose, f"modules outside an audience package: {loose}"
