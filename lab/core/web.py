"""Talk to the running web app over HTTP, as the learner's browser would.

Every request the lab sends carries the ``X-Workshop-Lab`` header, so the
tasks its experiments start are kept apart from the learner's on the page.
"""

import html
import re
from dataclasses import dataclass

import requests
from django.conf import settings
from django.urls import reverse

from lab.stack.advice import START_STACK
from workshop_project.tasks.forms import default_url
from workshop_project.tasks.variants import VARIANTS
from workshop_project.tasks.views import JOB_ID_HEADER, LAB_HEADER, TASK_ID_HEADER

#: Headers the lab's requests carry (see the module's docstring).
LAB_HEADERS = {LAB_HEADER: "1"}


class WebUnavailable(Exception):
    """The web app did not answer; the message says how to start it."""


@dataclass
class Submission:
    variant: str
    status_code: int  # 302 when the view started a task; 500 when it failed on purpose
    task_id: int | None
    job_id: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code == 302


def base_url() -> str:
    """The web app's address, e.g. ``http://127.0.0.1:8000`` (settings.WORKSHOP_WEB_URL)."""
    return settings.WORKSHOP_WEB_URL.rstrip("/")


def page_path(variant: str) -> str:
    """``broken`` → /variants/broken/; ``ex04_on_commit`` → /exercises/ex04_on_commit/."""
    return reverse(f"tasks:{variant}" if variant in VARIANTS else f"exercises:{variant}")


def page_url(variant: str) -> str:
    """The page's full address on the running web app."""
    return base_url() + page_path(variant)


def submit(
    variant: str,
    url: str | None = None,
    hold_ms: int = 0,
    fail: bool = False,
    session: requests.Session | None = None,
    timeout: float = 30,
) -> Submission:
    """Post the variant's form once, as a browser would; return which task and job it started."""
    session = session or requests.Session()
    session.headers.update(LAB_HEADERS)
    page = page_url(variant)
    try:
        form = session.get(page, timeout=timeout)
    except requests.ConnectionError:
        raise WebUnavailable(f"the web app does not answer at {base_url()}: {START_STACK}") from None
    form.raise_for_status()
    data = {
        "url": url or default_url(),
        "hold_ms": hold_ms,
        "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
    }
    if fail:
        data["fail"] = "on"
    response = session.post(page, data=data, allow_redirects=False, timeout=timeout, headers={"Referer": page})
    if response.status_code == 200:  # the form came back with its errors
        raise ValueError(f"the form at {page} refused the input: {' '.join(form_errors(response.text))}")
    task_id = response.headers.get(TASK_ID_HEADER)
    return Submission(
        variant, response.status_code, int(task_id) if task_id else None, response.headers.get(JOB_ID_HEADER)
    )


def form_errors(page: str) -> list[str]:
    """The messages of a Django form's error lists, as plain text."""
    items = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, flags=re.S)
    return [html.unescape(message) for item in items for message in re.findall(r"<li>(.*?)</li>", item, flags=re.S)]
