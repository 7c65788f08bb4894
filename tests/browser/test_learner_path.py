"""What a learner does, in a real browser: JupyterLab's first page, a lesson run through the
UI, grading in place, and the web page showing the race as it happens."""

import json
import re

import pytest
from playwright.sync_api import expect

from lab.core import web

from .conftest import NOTEBOOKS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("timed"),
]

RAISES = "raises-exception"
#: IPython's traceback header, or the last line of a minimal one ("NameError: name 'x' is not defined").
ERROR = re.compile(r"Traceback \(most recent call last\)|^\w+(Error|Exception|DoesNotExist): ", re.M)


def open_notebook(page, url):
    """Wait until the notebook is open and its kernel is "Django Shell-Plus" and idle."""
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_be_visible()
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-KernelName")).to_have_text("Django Shell-Plus")
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle"
    )


def tagged(name, tag):
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
    return [index for index, cell in enumerate(cells) if tag in cell.get("metadata", {}).get("tags", [])]


def test_jupyterlab_opens_lesson_00_on_the_shell_plus_kernel(page, jupyterlab, shot):
    page.goto(jupyterlab + "/")
    expect(page).to_have_url(re.compile(r"/lab/tree/notebooks/00_welcome\.ipynb"))
    open_notebook(page, jupyterlab)
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first).to_contain_text("Welcome")
    shot(page, "00_welcome")

    # A new notebook can only be a Shell-Plus one: the launcher offers no other kernel.
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New Launcher$")).click()
    notebook_cards = page.locator(".jp-LauncherCard[data-category='Notebook']")
    expect(notebook_cards).to_have_count(1)
    expect(notebook_cards.first).to_have_attribute("title", re.compile("Django Shell-Plus"))
    expect(page.get_by_text("Would you like to get notified about official Jupyter news?")).to_have_count(0)
    shot(page, "launcher")


def test_a_lesson_runs_through_the_ui_without_errors(page, jupyterlab, shot):
    name = "01_the_app"
    page.goto(f"{jupyterlab}/lab/tree/notebooks/{name}.ipynb?reset")  # only this notebook open
    open_notebook(page, jupyterlab)
    # What the README promises is always safe: the toolbar's "Restart the kernel and run all cells".
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) [data-command='notebook:restart-run-all']").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    code = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt")
    # Every code cell ran (Run All stops at an untagged error), and none is still running.
    expect(code.filter(has_text=re.compile(r"\[\s*\]|\[\*\]"))).to_have_count(0, timeout=120_000)
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle"
    )
    shot(page, name)
    outputs = page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",
        "cells => cells.map(cell => cell.querySelector('.jp-OutputArea')?.textContent ?? '')",
    )
    assert len(outputs) == len(json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"])
    assert any(text.strip() for text in outputs), "the lesson's cells printed nothing"
    errors = [index for index, text in enumerate(outputs) if ERROR.search(text)]
    assert set(errors) <= set(tagged(name, RAISES)), f"{name}: error outputs in cells {errors}"


def test_grading_in_place_shows_the_verdict_and_the_progress(page, jupyterlab, shot):
    name, slug = "03_fix_autocommit", "ex02_non_atomic"
    page.goto(f"{jupyterlab}/lab/tree/notebooks/{name}.ipynb?reset")  # only this notebook open
    open_notebook(page, jupyterlab)
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    # The lesson's first cell (its imports and lesson.start()), as a learner runs it first.
    first = notebook.locator(".jp-CodeCell").first
    first.click()
    page.keyboard.press("Shift+Enter")
    expect(first.locator(".jp-InputArea-prompt")).to_have_text(re.compile(r"\[\d+\]"))
    grading = notebook.locator(".jp-CodeCell", has_text="lesson.grade(")
    if grading.count() == 0:  # the lesson has no "Your turn" cell yet: the learner types one
        notebook.locator(".jp-CodeCell").last.click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")
        page.keyboard.press("Enter")
        page.keyboard.type(f'lesson.grade("{slug}")')
        page.keyboard.press("Escape")
        grading = notebook.locator(".jp-CodeCell", has_text="lesson.grade(")
    grading.first.click()
    page.keyboard.press("Shift+Enter")
    output = grading.first.locator(".jp-OutputArea")
    expect(output).to_contain_text("your progress", timeout=60_000)
    expect(output).to_contain_text(re.compile(rf"✘ {slug}|✔ {slug} passes"))
    expect(output).to_contain_text("exercises done.")
    grading.first.scroll_into_view_if_needed()
    shot(page, "graded")


@pytest.mark.parametrize(
    ("variant", "status", "says"), [("broken", "failed", "Task.DoesNotExist"), ("on_commit", "OK", "OK")]
)
def test_the_page_shows_each_task_end_without_a_reload(page, live_stack, shot, variant, status, says):
    page.goto(web.page_url(variant))
    expect(page.locator("input[name=url]")).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/samples/1234/$"))
    assert page.evaluate("() => typeof window.htmx") == "object", "htmx did not load"
    page.fill("input[name=hold_ms]", "300")
    shot(page, "form")
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text(re.compile(r"Started task \d+"))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    row = page.locator("tbody tr").first
    expect(row.locator("td").nth(2)).to_have_text(variant)
    shot(page, "submitted")
    expect(row.locator(f"td.{status}").first).to_have_text(status, timeout=20_000)
    expect(row).to_contain_text(says)
    assert navigations == [], f"the page reloaded: {navigations}"
    shot(page, status)
