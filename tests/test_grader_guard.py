"""The grader's guard (lab/grader/guard.py), tried with answers that work but misbehave.

Each is exercise 05's solution with one thing added that a learner's file
must not do: change a setting at import, connect a signal receiver, patch
rq, never return, leave threads running, hand the grader values it cannot
sort. All are graded in ONE real grading run (``--packages``), beside the
solution; each must fail with a sentence naming what it did, and the
changes must not leak into the next check (so its second check passes).
"""

import re
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings

from workshop_project import exercise_registry

from .test_exercises import copy_of_the_project, grade

SOLUTION = (settings.BASE_DIR / "solutions" / "ex05_many_jobs" / "batch.py").read_text()
AT_IMPORT = {
    "settings_at_import": 'from django.conf import settings\nsettings.RQ["COMMIT_MODE"] = "on_db_commit"\n',
    "receiver_at_import": (
        "from django.db.models.signals import post_save\ndef noticed(**kwargs):\n    pass\npost_save.connect(noticed)\n"
    ),
}
IN_THE_CALL = {
    "patches_rq": "    from rq.queue import Queue\n    Queue.enqueue_call = Queue.enqueue_call\n"
    "    Queue.enqueue_many = lambda *a, **k: None\n",
    "never_returns": "    import threading\n    while True:\n        try:\n"
    "            threading.Event().wait()\n        except Exception:\n            pass\n",
    "leaves_threads": "    import threading, time\n"
    "    def poll():\n        while True:\n            time.sleep(0.02)\n"
    "    threading.Thread(target=poll).start()\n"
    "    threading.Thread(target=threading.Event().wait, name='waits-for-ever').start()\n",
}


def variant(name):
    if name in AT_IMPORT:
        return SOLUTION.replace("\n\nclass Rejected", f"\n{AT_IMPORT[name]}\n\nclass Rejected")
    if name == "unsortable_ids":  # each job is given the Task itself: the grader sorts what the jobs got
        return SOLUTION.replace("partial(get_url_length.delay, task.id)", "partial(get_url_length.delay, task)")
    return SOLUTION.replace("    started = []\n", f"    started = []\n{IN_THE_CALL[name]}")


NAMES = [*AT_IMPORT, *IN_THE_CALL, "unsortable_ids"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    project = copy_of_the_project(tmp_path_factory.mktemp("guard-project"))
    for name in NAMES:
        folder = project / name / "ex05_many_jobs"
        folder.mkdir(parents=True)
        (project / name / "__init__.py").write_text("")
        (folder / "__init__.py").write_text("")
        (folder / "batch.py").write_text(variant(name))
    tmp = tmp_path_factory.mktemp("guard-run")
    grading = grade(
        "exercises/ex05_many_jobs",
        f"--packages=solutions,{','.join(NAMES)}",
        cwd=project,
        tmp_path=tmp,
        WORKSHOP_CHECK_SECONDS="3",
    )
    cases = {}
    for case in ET.parse(tmp / "junit.xml").iter("testcase"):
        package = re.search(r"\[([^\]]+)\]", case.get("name")).group(1)
        check = case.get("name").split("[")[0]
        sentence = {p.get("name"): p.get("value") for p in case.iter("property")}.get("sentence", "")
        failed = any(child.tag in ("failure", "error") for child in case)
        cases.setdefault(package, {})[check] = (failed, sentence)
    return grading, cases


def sentences(cases, name):
    return [sentence for failed, sentence in cases[name].values() if failed]


def test_the_solution_passes_beside_them(graded):
    _, cases = graded
    assert not sentences(cases, "solutions"), cases["solutions"]


def test_a_setting_changed_at_import_is_named_and_put_back(graded):
    _, cases = graded
    found = sentences(cases, "settings_at_import")
    assert len(found) == 1, cases["settings_at_import"]  # put back: the next check is graded as it should be
    assert "your code changed settings.RQ['COMMIT_MODE'] ('auto' → 'on_db_commit')" in found[0]


def test_a_receiver_connected_at_import_is_named(graded):
    _, cases = graded
    found = sentences(cases, "receiver_at_import")
    assert len(found) == 1, cases["receiver_at_import"]
    assert "the receivers of post_save (receiver_at_import.ex05_many_jobs.batch.noticed connected)" in found[0]


def test_a_patched_rq_class_is_named(graded):
    _, cases = graded
    found = sentences(cases, "patches_rq")
    assert found, cases["patches_rq"]
    assert all("rq.queue.Queue.enqueue_many (replaced)" in sentence for sentence in found), found


def test_code_that_never_returns_fails_in_seconds(graded):
    _, cases = graded
    found = sentences(cases, "never_returns")
    assert len(found) == len(cases["never_returns"]), cases["never_returns"]  # every check, each in 3 s
    assert all("Your code was still running 3 s after the check started" in sentence for sentence in found), found


def test_threads_left_running_are_named_and_the_run_still_ends(graded):
    grading, cases = graded
    found = sentences(cases, "leaves_threads")
    assert found, cases["leaves_threads"]
    assert "Your code left 2 threads running" in found[0], found
    assert "waits-for-ever" in found[0]


def test_values_the_grader_cannot_compare_give_a_verdict(graded):
    _, cases = graded
    found = sentences(cases, "unsortable_ids")
    assert found, cases["unsortable_ids"]
    assert not any(sentence.startswith("The check stopped") for sentence in found), found


def test_the_hint_follows_the_cause(tmp_path_factory):
    """What a learner reads: a hint the exercise attaches to the cause; else the guard's own advice,
    never the exercise's first hint about something else."""
    project = copy_of_the_project(tmp_path_factory.mktemp("hint-project"))
    (project / "exercises" / "ex05_many_jobs" / "batch.py").write_text(variant("settings_at_import"))
    helpers = (settings.BASE_DIR / "solutions" / "ex06_delay_on_commit" / "helpers.py").read_text()
    (project / "exercises" / "ex06_delay_on_commit" / "helpers.py").write_text(
        helpers + "\n\nfrom django.conf import settings\nsettings.RQ['COMMIT_MODE'] = 'on_db_commit'\n"
    )
    registry = project / "exercises" / "exercises.toml"
    text = registry.read_text()
    table = "[ex05_many_jobs.causes]\n"
    text = (
        text.replace(table, f"{table}changed_the_process = 3\n")
        if table in text
        else f"{text}\n{table}changed_the_process = 3\n"
    )
    registry.write_text(text)
    ex05 = next(e for e in exercise_registry.load(project) if e.slug == "ex05_many_jobs")

    grading = grade("exercises/ex05_many_jobs", "exercises/ex06_delay_on_commit", cwd=project, tmp_path=project)

    ex05_part, ex06_part = grading.output.split("✘ ex06_delay_on_commit")
    assert f"Hint 3/{len(ex05.hints)}: {ex05.hints[2]}" in ex05_part, grading.output
    assert "Hint: Change only what the exercise asks for" in ex06_part, grading.output
    assert "Hint 1/" not in ex06_part
