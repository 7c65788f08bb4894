"""Bad input: a form error for what can be checked at once, a recorded task error for what
only the worker can find out, and the worker keeps serving either way."""

import io
import socket

import pytest
from django.test import Client

from lab.core import web
from lab.core.outcomes import wait_for
from workshop_project.tasks.models import Task

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "Enter an http:// or https:// URL."),
        ("ftp://127.0.0.1/file.txt", "Enter an http:// or https:// URL."),
        ("http://127.0.0.1/" + "x" * 120, "The URL is too long: at most 128 characters fit in a task."),
    ],
)
def test_a_bad_url_is_a_form_error_and_starts_nothing(url, message, redis_connection):
    response = Client().post("/variants/on_commit/", {"url": url, "hold_ms": 0})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Task.objects.count() == 0
    assert redis_connection.keys("rq:job:*") == []


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: the fetch must time out, not hang the worker."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


def submit_and_wait(url):
    submission = web.submit("on_commit", url=url)
    return wait_for(task_id=submission.task_id)


def test_what_only_the_worker_can_find_out_is_recorded_on_the_task(live_stack, silent_server):
    unreachable = submit_and_wait(f"http://127.0.0.1:{closed_port()}/")
    assert (unreachable.status, unreachable.detail) == ("error", "error: the server could not be reached")

    too_big = submit_and_wait(f"{live_stack}/samples/2000000/")
    assert (too_big.status, too_big.detail) == ("error", "error: the page is larger than the 1,000,000-byte limit")

    missing = submit_and_wait(f"{live_stack}/samples/9000000/")
    assert (missing.status, missing.detail) == ("error", "error: the server answered 404")

    silent = submit_and_wait(silent_server)
    assert (silent.status, silent.detail) == ("error", "error: the server did not answer in time")

    fine = submit_and_wait(f"{live_stack}/samples/4321/")
    assert fine.status == "OK"
    assert Task.objects.get(id=fine.task_id).url_length == 4321


def test_sample_pages_have_exactly_the_size_asked_for():
    for size in (0, 1, 21, 1234, 100_000):
        response = Client().get(f"/samples/{size}/")
        assert len(response.content) == size


def test_an_absurd_hold_in_the_address_is_a_400_with_a_sentence_not_a_500():
    """``?hold_ms=`` prefills the form; 5,000 digits is more than Python will turn into an int."""
    client = Client(raise_request_exception=False)
    for hold in ("9" * 5000, "99999", "-5", "abc"):
        response = client.get(f"/variants/on_commit/?hold_ms={hold}")
        assert response.status_code == 400, f"?hold_ms={hold[:12]}… answered {response.status_code}"
        assert response.content.decode().startswith("hold_ms must be a whole number of milliseconds"), response
    assert client.get("/variants/on_commit/?hold_ms=1000").status_code == 200
    assert client.get("/variants/on_commit/?hold_ms=").status_code == 200


def test_a_body_bigger_than_any_form_needs_is_refused_before_it_is_read():
    """A 5 MB upload to the form page: a 413 with a sentence, nothing parsed, nothing started."""
    upload = io.BytesIO(b"x" * 5_000_000)
    upload.name = "big.bin"
    response = Client(raise_request_exception=False).post(
        "/variants/on_commit/", {"url": "http://127.0.0.1:9/", "hold_ms": 0, "file": upload}
    )
    assert response.status_code == 413, f"a 5 MB body answered {response.status_code}"
    assert "this app's forms need at most" in response.content.decode()
    assert Task.objects.count() == 0
    # What a form needs still passes.
    assert Client().post("/variants/on_commit/", {"url": "not a url", "hold_ms": 0}).status_code == 200
