"""Talk to the running web app over HTTP, as the learner's browser would."""

import html
import re
from dataclasses import dataclass

import requests
from django.conf import settings

from workshop_project.tasks.forms import default_url


class WebUnavailable(Exception):
    """The web app did not answer; the message says how to start it."""


@dataclass
class Submission:
    variant: str
    status_code: int  # 302 when the view started a task; 500 when it failed on purpose
    task_id: int | None
    job_id: str | None

    @property
    def succeeded(self):
        return self.status_code == 302


def base_url():
    return settings.WORKSHOP_WEB_URL.rstrip("/")


def page_path(variant):
    """``broken`` → /variants/broken/; ``ex04_on_commit`` → /exercises/ex04_on_commit/."""
    prefix = "exercises" if variant.startswith("ex") and variant[2:4].isdigit() else "variants"
    return f"/{prefix}/{variant}/"


def page_url(variant):
    return base_url() + page_path(variant)


def submit(variant, url=None, hold_ms=0, fail=False, session=None, timeout=30):
    """Post the variant's form once; return which task and job it started."""
    session = session or requests.Session()
    page = page_url(variant)
    try:
        form = session.get(page, timeout=timeout)
    except requests.ConnectionError:
        raise WebUnavailable(
            f"the web app does not answer at {base_url()}: start the stack (`make up` or `docker compose up`)"
        ) from None
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
    task_id = response.headers.get("X-Task-Id")
    return Submission(
        variant, response.status_code, int(task_id) if task_id else None, response.headers.get("X-Job-Id")
    )


def form_errors(page):
    """The messages of a Django form's error lists, as plain text."""
    items = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, flags=re.S)
    return [html.unescape(message) for item in items for message in re.findall(r"<li>(.*?)</li>", item, flags=re.S)]
