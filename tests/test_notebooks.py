"""The lessons: every notebook runs top to bottom, headless, against a live stack.

Each notebook is executed with nbclient on the kernel its metadata names
(the "Django Shell-Plus" one ``make install`` installs), against the real
web server and rq worker that ``live_processes`` starts on the test
databases and the test Redis. An error in any cell not tagged
``raises-exception`` fails the test, and so does a tagged cell that does
not raise (it would be teaching something that is not true).

A second set of tests keeps the committed files clean: no outputs, no
execution counts, and the right kernel.

Set WORKSHOP_NOTEBOOK_OUTPUTS=folder to keep the executed notebooks, with
their outputs (tables, plots), e.g. as CI artifacts.
"""

import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from django.conf import settings
from django.db import connection
from nbclient import NotebookClient

from lab.core import lesson_stats
from lab.stack import kernel

from .conftest import process_env

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

FOLDER = Path(settings.BASE_DIR) / "notebooks"
LESSONS = sorted(path.stem for path in FOLDER.glob("*.ipynb"))
KERNELSPEC = {"name": kernel.KERNEL_NAME, "display_name": "Django Shell-Plus", "language": "python"}
CELL_TIMEOUT = 120  # seconds; the slowest cell (the live sweep in 02) takes about 30
RAISES = "raises-exception"
#: What a learner should never read in a lesson's output: IPython's %xmode chatter, and reST's
#: ``double backquotes`` from a printed docstring (lessons are Markdown: `one`). The walkthrough saw both.
NOISE = re.compile(r"Exception reporting mode|(?<!`)``(?!`)")
QUEUE_WORKERS = {"13_every_queue"}  # lessons that need lesson 13's Celery and database workers
PLOTS = {"02_the_race"}  # the failure rate against hold time, drawn


def read(name):
    return nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)


def test_the_lessons_are_numbered_without_gaps():
    numbers = [name.split("_", 1)[0] for name in LESSONS]
    assert numbers == [f"{index:02d}" for index in range(len(LESSONS))], f"lessons numbered {numbers}"
    assert len(LESSONS) >= 10, f"only {len(LESSONS)} lessons"


@pytest.mark.parametrize("name", LESSONS)
def test_committed_without_outputs_on_the_shell_plus_kernel(name):
    notebook = read(name)
    assert dict(notebook.metadata.get("kernelspec", {})) == KERNELSPEC, f"{name} names another kernel"
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{name}: cells {dirty} carry outputs; clear them before committing"


def kernel_env(web_url):
    """The kernel's environment: the test databases, the test Redis database, the live web.

    The kernel spec sets DJANGO_SETTINGS_MODULE to the stack's settings, which
    take REDIS_URL as given, so it is passed already pointing at the Redis
    database that the test settings (and so the web and the worker) use.
    """
    return process_env(REDIS_URL=settings.REDIS_URL, WORKSHOP_WEB_URL=web_url)


@pytest.fixture(scope="session", autouse=True)
def this_checkouts_kernel(tmp_path_factory):
    """The kernel spec for this checkout, found first (JUPYTER_PATH): the one in the
    virtualenv names whichever checkout last ran ``workshop kernel`` (several git
    worktrees can share one virtualenv), and its PYTHONPATH decides whose code runs."""
    prefix = tmp_path_factory.mktemp("kernel")
    kernel.install(prefix)
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(prefix / "share" / "jupyter"), before]))
    yield
    if before is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = before


@pytest.fixture(scope="session")
def timings(request):
    """Each lesson's execution time, printed at the end of the session."""
    seconds = {}
    yield seconds
    if seconds:
        plugins = request.config.pluginmanager
        lines = [f"  {name:<22} {value:6.1f} s" for name, value in seconds.items()]
        lines.append(f"  {'total':<22} {sum(seconds.values()):6.1f} s")
        with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
            plugins.get_plugin("terminalreporter").write_line("\nnotebook execution times:\n" + "\n".join(lines))


@pytest.mark.notebooks
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_top_to_bottom(name, live_stack, timings, request):
    if name in QUEUE_WORKERS:  # started for the lesson that needs them: the others stay as fast
        request.getfixturevalue("queue_workers")
    if not kernel.installed():
        pytest.fail("the Django Shell-Plus kernel is not installed: run `python manage.py workshop kernel`")
    notebook = read(name)
    client = NotebookClient(
        notebook,
        kernel_name=notebook.metadata.kernelspec.name,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(FOLDER)}},
    )
    started = time.perf_counter()
    client.execute(env=kernel_env(live_stack))
    timings[name] = time.perf_counter() - started
    lesson_stats.record_time(settings.BASE_DIR, name, timings[name], connection.vendor)  # for `workshop check`
    if os.environ.get("WORKSHOP_NOTEBOOK_OUTPUTS"):
        keep = Path(os.environ["WORKSHOP_NOTEBOOK_OUTPUTS"])
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, keep / f"{name}.ipynb")

    noisy = [
        (index, match.group(0))
        for index, cell in enumerate(notebook.cells)
        for output in cell.get("outputs", [])
        for match in [NOISE.search(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")))]
        if match
    ]
    assert not noisy, f"{name}: cells print what a lesson should not show: {noisy}"

    silent = [
        index
        for index, cell in enumerate(notebook.cells)
        if RAISES in cell.metadata.get("tags", []) and not any(output.output_type == "error" for output in cell.outputs)
    ]
    assert not silent, f"{name}: cells {silent} are tagged {RAISES} but raised nothing"
    if name in PLOTS:
        images = [
            output
            for cell in notebook.cells
            for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})
        ]
        assert images, f"{name} drew no plot"


@pytest.mark.parametrize("name", LESSONS)
def test_says_what_you_will_learn_and_checks_it(name):
    """Three objectives at the top; two to four questions with hidden answers and a recap at the end."""
    markdown = [cell.source for cell in read(name).cells if cell.cell_type == "markdown"]
    learn = next((text for text in markdown if "You will learn" in text), "")
    points = [line for line in learn.split("You will learn", 1)[-1].splitlines() if line.startswith(("- ", "1. "))]
    assert len(points) == 3, f"{name}: 'You will learn' lists {len(points)} points, expected three"
    text = "\n".join(markdown)
    assert "## Check yourself" in text, f"{name} has no 'Check yourself' section"
    after = text.split("## Check yourself", 1)[1]
    answers = after.count("<details>")
    assert 2 <= answers <= 4, f"{name}: 'Check yourself' hides {answers} answers in <details>, expected two to four"
    assert "Recap" in after, f"{name}: 'Check yourself' ends without a recap"


@pytest.mark.parametrize("name", LESSONS)
def test_reads_in_about_ten_minutes(name):
    """No lesson over about 1,200 words of prose (Markdown outside code fences): a sitting of four hours."""
    words = lesson_stats.prose_words(FOLDER / f"{name}.ipynb")
    assert words <= lesson_stats.MAX_WORDS, f"{name} has {words:,} words of prose; at most {lesson_stats.MAX_WORDS:,}"
