"""The grader's machinery: ``exercises/conftest.py`` plugs it into pytest.

What a learner sees is decided here: one line when Redis is down, one plain
sentence per failing exercise (what was expected, what the worker did) with
its first hint, and a progress table at the end. The graders themselves
(``exercises/exNN_*/test_*.py``) use the helpers below to run jobs and read
what the worker did; nothing here mocks ``.delay()``, Redis or the database.
"""

import threading
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import django_rq
import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test import override_settings
from rq.job import Job, JobStatus

from workshop_project import exercise_registry

from . import progress
from .amplifier import ThreadWorker
from .outcomes import failure_of

START_REDIS = (
    "start the stack (`make up`, or `docker compose up`) or point REDIS_URL at a running Redis, then grade again"
)


# --- pytest: options, start-up checks, the grader's own databases ----------------


def add_options(parser):
    group = parser.getgroup("workshop", "the workshop's grader")
    group.addoption("--solutions", action="store_true", help="grade solutions/ instead of your exercises/")
    group.addoption("--hints", action="store_true", help="show every hint of a failing exercise, not only the first")


def redis_problem():
    """None if the grader's Redis answers; otherwise one line saying so and how to fix it."""
    url = settings.RQ_QUEUES["default"]["URL"]
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError:
        return f"Redis does not answer at {url}: {START_REDIS}."
    return None


def use_own_test_databases(prefix):
    """Give this pytest run its own test databases (files for SQLite, so that a worker
    on another connection sees what a test committed), never the project tests' ones."""
    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if database["ENGINE"].endswith("sqlite3"):
            test["NAME"] = str(Path(settings.DATA_DIR) / f"{prefix}-{Path(database['NAME']).stem}.sqlite3")
            # A throwaway database need not survive a power cut: no fsync on every commit.
            # And a job blocked by a transaction that holds the write lock fails in seconds, not 20.
            options = database.setdefault("OPTIONS", {})
            options["init_command"] = options.get("init_command", "") + "PRAGMA synchronous=OFF;"
            options["timeout"] = 5
        else:
            test["NAME"] = f"{prefix}_{database['NAME']}"


def configure(config):
    """Everything the grader decides before a test runs (called from pytest_configure)."""
    problem = redis_problem()
    if problem:
        raise pytest.UsageError(problem)  # pytest prints it as one line and exits non-zero
    root = "solutions" if config.getoption("solutions") else "exercises"
    settings.WORKSHOP_EXERCISE_PACKAGE = root  # the served views import from here too
    use_own_test_databases("grader")
    config.option.nomigrations = True  # tables straight from the models: faster, and no data migrations to need
    if config.option.tbstyle == "auto":  # our summary replaces the tracebacks, unless asked for
        config.option.tbstyle = "no"
        config.option.reportchars = ""
    config.pluginmanager.register(Reporter(config, root), "workshop-grader")


# --- What went wrong, in one sentence --------------------------------------------


def fail(sentence):
    """Fail the current check with one plain sentence and no traceback."""
    pytest.fail(sentence, pytrace=False)


def explain(excinfo):
    """One sentence for a failed check: the grader's own, or the exception the learner's code raised."""
    if isinstance(excinfo.value, pytest.fail.Exception):
        return str(excinfo.value.msg)
    return describe_error(excinfo.value, excinfo.tb) + "."


def is_learner_code(filename):
    """A file under exercises/ or solutions/ that is not part of the grader."""
    try:
        parts = Path(filename).resolve().relative_to(settings.BASE_DIR).parts
    except ValueError:
        return False
    return parts[0] in ("exercises", "solutions") and not parts[-1].startswith(("test_", "conftest"))


def describe_error(error, tb=None):
    """``Your code raised TypeError: ... (exercises/ex04_on_commit/views.py, line 25)``"""
    name = type(error).__qualname__  # "Task.DoesNotExist", "NotImplementedError"
    what = f"{name}: {error}" if str(error) else name
    frames = traceback.extract_tb(tb or error.__traceback__)
    mine = [frame for frame in frames if is_learner_code(frame.filename)]
    if mine:
        return f"Your code raised {what} ({exercise_registry.relative(mine[-1].filename)}, line {mine[-1].lineno})"
    frame = frames[-1] if frames else None
    where = f" ({exercise_registry.relative(frame.filename)}, line {frame.lineno})" if frame else ""
    return f"The check stopped with {what}{where}"


COLOUR = {"done": {"green": True}, "failing": {"red": True}}


@dataclass
class Grade:
    exercise: exercise_registry.Exercise
    checks: int = 0
    failures: list = field(default_factory=list)  # sentences, in the order the checks ran

    @property
    def passed(self):
        return self.checks > 0 and not self.failures


class Reporter:
    """Collects each exercise's checks and prints what a learner needs: the first failure
    of each exercise they are working on, its hint, and the progress table."""

    def __init__(self, config, root):
        self.config = config
        self.root = root
        self.exercises = {exercise.slug: exercise for exercise in exercise_registry.load()}
        self.grades = {}
        # Exercises graded only in part (-k, a single file or check) are shown but not recorded.
        self.partial = set()
        self.all_partial = any("::" in arg or Path(arg).is_file() for arg in config.args)

    def slug_of(self, nodeid):
        parts = nodeid.split("::")[0].split("/")
        return next((part for part in parts if part in self.exercises), None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        slug = self.slug_of(report.nodeid)
        if report.failed and slug and call.excinfo is not None:
            report.user_properties.append(("sentence", explain(call.excinfo)))

    def pytest_deselected(self, items):
        self.partial |= {self.slug_of(item.nodeid) for item in items}

    def pytest_runtest_logreport(self, report):
        slug = self.slug_of(report.nodeid)
        if not slug:
            return
        grade = self.grades.setdefault(slug, Grade(self.exercises[slug]))
        if report.when == "call" or (report.when == "setup" and not report.passed):
            grade.checks += 1
        if report.failed:
            sentence = dict(report.user_properties).get("sentence") or report.longreprtext.strip().splitlines()[-1]
            grade.failures.append(sentence)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.grades:
            return
        tr = terminalreporter
        ordered = [self.grades[slug] for slug in self.exercises if slug in self.grades]
        failing = [grade for grade in ordered if not grade.passed]
        if self.root == "exercises":
            # The first failure first; then only the exercises being worked on (not untouched starters).
            shown = [grade for grade in failing if grade is failing[0] or not progress.is_starter(grade.exercise)]
        else:
            shown = failing
        for grade in shown:
            self.write_failure(tr, grade)
        graded = {grade.exercise.slug: grade.passed for grade in ordered}
        if self.root == "exercises":
            if not self.all_partial:
                progress.record(
                    {
                        slug: (passed, (self.grades[slug].failures or [""])[0])
                        for slug, passed in graded.items()
                        if slug not in self.partial
                    }
                )
            tr.write_sep("=", "your progress")
            rows = progress.rows(graded)
            last = progress.summary(rows)
        else:
            tr.write_sep("=", f"grading {self.root}/")
            rows = [row for row in progress.rows(graded) if row.exercise.slug in graded]
            last = f"{sum(graded.values())} of {len(graded)} pass."
        for row in rows:
            tr.write_line(str(row), **COLOUR.get(row.state, {}))
        tr.write_line(last)

    def write_failure(self, tr, grade):
        exercise = grade.exercise
        tr.write_sep("-", f"✘ {exercise.slug}: {exercise.title}", red=True)
        tr.write_line(f"  {grade.failures[0]}")
        hints = exercise.hints if self.config.getoption("hints") else exercise.hints[:1]
        for number, hint in enumerate(hints, 1):
            label = f"Hint {number}/{len(exercise.hints)}" if len(hints) > 1 else "Hint"
            tr.write_line(f"  {label}: {hint}", yellow=True)
        more = len(grade.failures) - 1
        tail = f"{more} more check{'s' if more > 1 else ''} fail{'' if more > 1 else 's'}. " if more > 0 else ""
        if len(hints) < len(exercise.hints):
            tail += f"More hints: pytest exercises/{exercise.slug} --hints"
        else:
            tail += (
                f"Edit {exercise_registry.relative(exercise.path(self.root))}, then: pytest exercises/{exercise.slug}"
            )
        tr.write_line(f"  {tail}")


# --- Driving the learner's view -------------------------------------------------


def submit(browser, page, url, failing=False):
    """Post the form to ``page`` as a browser would. A request that should start a task must
    redirect; one asked to fail must fail with the form's SimulatedFailure and nothing else."""
    from workshop_project.tasks.views import SimulatedFailure

    response = browser.post(page, {"url": url, **({"fail": "on"} if failing else {})})
    error = getattr(response, "exc_info", None)
    if failing and error and error[0] is SimulatedFailure:
        return response
    if not failing and response.status_code == 302:
        return response
    expected = "fail with SimulatedFailure (the form's fail box)" if failing else "start a task and redirect (302)"
    if error:
        fail(f"{describe_error(error[1], error[2])} while handling the form; expected your view to {expected}.")
    fail(f"Your view answered {response.status_code}; expected it to {expected}.")


# --- What did the worker do? ----------------------------------------------------


@dataclass
class JobRun:
    """One job, as rq recorded it."""

    id: str
    status: str  # "finished", "failed", "queued", ...
    func: str
    args: tuple
    error: str = ""  # "Task.DoesNotExist"
    message: str = ""

    @property
    def finished(self):
        return self.status == JobStatus.FINISHED

    @property
    def missed_its_row(self):
        return self.status == JobStatus.FAILED and self.error.endswith("DoesNotExist")

    @property
    def call(self):
        """``get_url_length(3)``"""
        return f"{self.func.rsplit('.', 1)[-1]}({', '.join(map(repr, self.args))})"

    def __str__(self):
        if self.status != JobStatus.FAILED:
            return f"{self.call} {self.status}"
        text = f"{self.call} failed with {self.error}: {self.message.rstrip('.')}"
        if "database is locked" in self.message:
            text += (
                " (a transaction that had written to the database was still open, so SQLite kept the job from writing)"
            )
        return text


def job_run(job_id):
    connection = django_rq.get_connection("default")
    job = Job.fetch(job_id, connection=connection)
    status = job.get_status(refresh=True)
    run = JobRun(job.id, getattr(status, "value", status), job.func_name, tuple(job.args))
    if run.status == JobStatus.FAILED:
        failure = failure_of(job)
        run.error, run.message = failure.short_type, failure.message
    return run


def runs(job_ids):
    return [job_run(job_id) for job_id in job_ids]


def queued_job_ids(queue_name="default"):
    return django_rq.get_queue(queue_name).get_job_ids()


class BurstWorker(ThreadWorker):
    """rq's worker, in burst mode on a thread, without the command channel: it lives a few
    milliseconds and nobody sends it commands (unsubscribing would cost a second per burst)."""

    def subscribe(self):
        pass


def run_queued_jobs(queue_name="default", timeout=60):
    """A real rq worker (burst mode) runs every job waiting in the queue, on another
    thread with its own database connection, as a worker arriving now would; returns their ids."""
    queue = django_rq.get_queue(queue_name)
    job_ids = queue.get_job_ids()
    errors = []

    def work():
        try:
            BurstWorker([queue], connection=queue.connection).work(burst=True)
        except BaseException as error:  # reported on the grader's thread below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name="grader-worker", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        fail(f"The worker was still busy after {timeout} s: does a job wait for something that never happens?")
    if errors:
        raise errors[0]
    return job_ids


def expect_found(run, task_id, model="task"):
    """Fail unless ``run`` is a job that was given ``task_id`` and found that row."""
    if run.missed_its_row:
        fail(
            f"The worker ran {run.call} before the {model} was committed and it raised {run.error}: "
            f"expected the job to start only after the commit, and to find {model} {task_id}."
        )
    if run.status == JobStatus.FAILED:
        fail(f"The job {run}; expected it to find {model} {task_id}.")
    if not run.finished:
        fail(f"The job {run.call} is {run.status}, not finished; expected the worker to have run it.")
    if tuple(run.args[:1]) != (task_id,):
        fail(f"The job was enqueued as {run.call}; expected it to be given the {model}'s id, {task_id}.")


# --- The world the graders set up ------------------------------------------------


class FetchCounter:
    """A WSGI wrapper around the project's app that counts the requests for each path."""

    def __init__(self, app):
        self.app = app
        self.counts = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.counts[environ.get("PATH_INFO", "")] += 1
        return self.app(environ, start_response)


@dataclass
class SamplePages:
    """The project's sample pages, served in this process, counting how often each is fetched."""

    base: str
    counter: FetchCounter

    def url(self, size=1234):
        return f"{self.base}/samples/{size}/"

    def fetches(self, url):
        return self.counter.counts[url.removeprefix(self.base).split("?")[0]]

    def reset(self):
        with self.counter.lock:
            self.counter.counts.clear()


@contextmanager
def sample_pages():
    from django.core.wsgi import get_wsgi_application

    from .samples_server import serving

    counter = FetchCounter(get_wsgi_application())
    with serving(counter) as base:
        yield SamplePages(base, counter)


@contextmanager
def redis_down(queue_name="default"):
    """Point the queue at a port where nothing listens: every enqueue really fails
    with a refused connection (code that asks django_rq.get_queue() at call time)."""
    from .testservers import free_port

    closed = f"redis://127.0.0.1:{free_port()}/0"
    queues = {**settings.RQ_QUEUES, queue_name: {**settings.RQ_QUEUES[queue_name], "URL": closed}}
    with override_settings(RQ_QUEUES=queues):
        yield closed
