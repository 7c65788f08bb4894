"""Fix 3's page in a real browser: the task its job creates shows up, with its page, without a reload."""

import re

import pytest
from playwright.sync_api import expect

from lab.core import web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("timed"),
]


def test_the_in_job_page_shows_the_task_its_job_creates_without_a_reload(page, live_stack, shot):
    page.goto(web.page_url("in_job"))
    page.fill("input[name=hold_ms]", "0")  # the page comes back before the worker has made the task, mostly
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("No task yet: the job creates it")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    shot(page, "submitted")
    row = page.locator("tbody tr").first
    expect(row).to_have_attribute("id", re.compile(r"^task-\d+$"), timeout=20_000)
    expect(row.locator("td").nth(2)).to_have_text("in_job")
    expect(row.locator("td.OK").first).to_have_text("OK", timeout=20_000)
    assert navigations == [], f"the page reloaded: {navigations}"
    shot(page, "OK")
