"""A killing sentence is never false for the answer in front of it (issue 16, item 5).

Each case grades one real wrong answer with the real grader and reads the
sentence it got: it may say only what the check saw.
"""

import xml.etree.ElementTree as ET

from workshop_project import exercise_registry

from .test_exercises import copy_of_the_project, grade


def sentences_for(tmp_path, slug, answer, *args):
    """Grade ``answer`` as the learner's file of ``slug``; each check's sentence ("" when it passed)."""
    project = copy_of_the_project(tmp_path / "project")
    (project / "exercises" / slug / exercise_registry.find(slug).file).write_text(answer.read_text())
    sentences_for.output = grade(f"exercises/{slug}", *args, cwd=project, tmp_path=tmp_path).output
    return {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}.get("sentence", "")
        for case in ET.parse(tmp_path / "junit.xml").iter("testcase")
    }


def test_a_call_without_using_is_not_said_to_have_passed_one(tmp_path):
    answer = tmp_path / "enqueues_at_once.py"
    answer.write_text("def delay_on_commit(job, *args, using=None, **kwargs):\n    job.delay(*args, **kwargs)\n")
    found = sentences_for(tmp_path, "ex06_delay_on_commit", answer, "-k", "waits_for_the_commit_on_default")
    sentence = found["test_it_waits_for_the_commit_on_default"]
    assert "delay_on_commit(...) without using= had already enqueued" in sentence, sentence
    assert "using='default'" not in sentence


PLAIN_WORKER_ON_A_THREAD = """
import threading
from contextlib import contextmanager

import django_rq
from django.db import transaction
from rq import SimpleWorker

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task


@contextmanager
def worker_in_the_block(queue_name="default"):
    queue = django_rq.get_queue(queue_name)
    yield
    thread = threading.Thread(target=lambda: SimpleWorker([queue], connection=queue.connection).work(burst=True))
    thread.start()
    thread.join()


def reproduce(url):
    with transaction.atomic():
        task = Task.objects.create(url=url)
        with worker_in_the_block():
            job = get_url_length.delay(task.id)
    return job.id
"""


def test_an_error_on_the_learners_thread_is_named_with_the_hint_about_it(tmp_path):
    """The walkthrough's ex01: rq's plain worker on a thread dies of 'signal only works in main thread';
    the check saw the job still queued. The learner reads both, and the hint about threads' errors."""
    answer = tmp_path / "plain_worker_error_lost.py"
    answer.write_text(PLAIN_WORKER_ON_A_THREAD)
    found = sentences_for(tmp_path, "ex01_reproduce", answer)
    said = [sentence for sentence in found.values() if "Meanwhile, on a thread of yours" in sentence]
    assert said, found
    assert "your code raised ValueError: signal only works in main thread" in said[0], said[0]
    assert "exercises/ex01_reproduce/reproduce.py, line" in said[0]
    assert "Traceback" not in sentences_for.output  # in the sentence, not as tracebacks above it
