"""The home page every variant shares: the form, the task list, and the helpers
a variant's ``form_valid`` calls so that its own module shows only what differs.
"""

import datetime
import time
from pathlib import Path
from typing import NamedTuple

import django_rq
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from django.views.generic.edit import FormView
from redis.exceptions import RedisError

from workshop_project import exercise_registry

from .failures import Failed, failures_by_task
from .forms import TaskForm
from .models import Task, started_from
from .variants import VARIANTS

#: Response headers that tell a program (the lab, the grader) which task and job a request started.
TASK_ID_HEADER = "X-Task-Id"
JOB_ID_HEADER = "X-Job-Id"
#: A request header the lab sends, so that its experiments' tasks are kept apart from yours.
LAB_HEADER = "X-Workshop-Lab"

#: The session key under which a submit leaves the job whose task the next page waits for.
AWAITING_JOB = "awaiting_job"

#: How many tasks the page lists.
LISTED = 30
#: A row pending longer than this says so and asks for itself every SLOW_POLL, not every second.
PENDING_TOO_LONG = datetime.timedelta(minutes=1)
SLOW_POLL = "10s"


class SimulatedFailure(Exception):
    """Raised when the form asks the request to fail after it enqueued its job."""


#: Said on the page when the queue's Redis does not answer (the page still lists what the database holds).
QUEUE_DOWN = (
    "Redis does not answer, so the worker's failures cannot be read and new jobs cannot be queued: "
    "start the stack with `make up` (local) or `docker compose up`."
)


#: The longest hold the form takes (ms), and what a page says to a ``?hold_ms=`` beyond it.
MAX_HOLD_MS = TaskForm.base_fields["hold_ms"].max_value
HOLD_MS_INVALID = (
    f"hold_ms must be a whole number of milliseconds from 0 to {MAX_HOLD_MS}: "
    "?hold_ms=1000 holds the transaction open for 1 s.\n"
)
INVALID = object()


def requested_hold(request):
    """``?hold_ms=`` as an int; None when absent or empty; INVALID when the form would refuse it.
    The length is checked before ``int()``: Python refuses to convert over 4,300 digits."""
    hold_ms = request.GET.get("hold_ms", "")
    if not hold_ms:
        return None
    if len(hold_ms) > len(str(MAX_HOLD_MS)) or not hold_ms.isdigit() or int(hold_ms) > MAX_HOLD_MS:
        return INVALID
    return int(hold_ms)


class Row(NamedTuple):
    """One row of the task list."""

    task: Task
    failure: Failed | None  # the (type, message) of the task's failed job
    poll: str  # how often the row asks for itself: "1s", SLOW_POLL when pending too long, "" never (done)


def poll_every(task, failure, stale_before):
    """A row that will not change again (a result, a failed job) does not poll; a pending one every
    second, or every SLOW_POLL once it has waited longer than PENDING_TOO_LONG (and it says so)."""
    if failure or task.status != "pending":
        return ""
    return SLOW_POLL if task.created_on < stale_before else "1s"


def rows(tasks):
    """``(rows, answered)``: a Row per task, and whether Redis answered.

    When Redis does not answer, the rows are as the database holds them (no
    failures) and the page says so in one sentence rather than answering 500.
    """
    tasks = list(tasks)
    pending = [task.id for task in tasks if task.status == "pending"]
    try:
        failed, answered = (failures_by_task(pending) if pending else {}), True
    except RedisError:
        failed, answered = {}, False
    stale_before = timezone.now() - PENDING_TOO_LONG
    return [
        Row(task, failed.get(task.id), poll_every(task, failed.get(task.id), stale_before)) for task in tasks
    ], answered


def job_row(request, job_id):
    """The row of the task a job creates (fix 3: the page has no task to show yet), for the page's
    live update: it waits for the task, polling, then becomes the task's own row."""
    task = Task.objects.filter(job_id=job_id).first()
    if task is not None:
        return task_row(request, task.pk)
    says, poll = "waiting for the job to create its task", "1s"
    try:
        job = django_rq.get_queue("default").fetch_job(job_id)
        if job is None:
            says, poll = "no such job any more: reload the page", ""
        elif job.is_failed:
            result = job.latest_result()
            last = result.exc_string.strip().splitlines()[-1] if result and result.exc_string else "failed"
            says, poll = f"the job failed before its task existed: {last}", ""
    except RedisError:
        says, poll = QUEUE_DOWN, SLOW_POLL
    return render(request, "tasks/_job_row.html", {"job_id": job_id, "says": says, "poll": poll})


def task_row(request, pk):
    """One row of the task list, for the page's live update (htmx polls it while the task is pending)."""
    [row], _ = rows([get_object_or_404(Task, pk=pk)])
    return render(request, "tasks/_task_row.html", row._asdict())


class TaskFormView(FormView):
    """The article's ``TasksHomeFormView``: a form that starts a task, and the task list."""

    form_class = TaskForm
    template_name = "tasks/home.html"
    #: The file a learner should read for this page (each variant sets ``__file__``).
    source = None

    def dispatch(self, request, *args, **kwargs):
        # Every task this request creates (in a variant's code or yours) records the page it came from.
        token = started_from.set((request.resolver_match.url_name or "", LAB_HEADER in request.headers))
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            started_from.reset(token)

    def get_success_url(self):
        """Back to this page, keeping the hold you chose, so the next submit needs no retyping."""
        hold_ms = self.request.POST.get("hold_ms", "")
        return f"{self.request.path}?hold_ms={hold_ms}" if hold_ms.isdigit() and int(hold_ms) else self.request.path

    def get(self, request, *args, **kwargs):
        """The page; ``?hold_ms=`` prefills the hold, and a hold the form would refuse is a 400 with a sentence
        (5,000 digits used to be a 500: more than Python turns into an int)."""
        if requested_hold(request) is INVALID:
            return HttpResponseBadRequest(HOLD_MS_INVALID, content_type="text/plain")
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        hold_ms = requested_hold(self.request)
        return {**super().get_initial(), **({"hold_ms": hold_ms} if isinstance(hold_ms, int) else {})}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        show_lab = "lab" in self.request.GET
        tasks = Task.objects.all() if show_lab else Task.objects.filter(lab=False)
        listed, answered = rows(tasks[:LISTED])
        awaiting = self.request.session.pop(AWAITING_JOB, None)  # once: a reload lists the task as usual
        if any(row.task.job_id == awaiting for row in listed):
            awaiting = None
        context.update(
            rows=listed,
            awaiting_job=awaiting,
            queue_down="" if answered else QUEUE_DOWN,
            show_lab=show_lab,
            lab_tasks=0 if show_lab else Task.objects.filter(lab=True).count(),
            variants=[(name, reverse(f"tasks:{name}")) for name in VARIANTS],
            current=self.request.resolver_match.url_name,
            source=Path(self.source).resolve().relative_to(settings.BASE_DIR) if self.source else "",
        )
        return context

    def rest_of_request(self, form):
        """Whatever the view still does after enqueueing, made visible.

        It sleeps ``hold_ms`` (the article's ``time.sleep(1)``: with
        ATOMIC_REQUESTS the transaction stays open all that time), then fails
        if the form asked it to, so the request's transaction rolls back.
        """
        hold_ms = form.cleaned_data.get("hold_ms") or 0
        if hold_ms:
            time.sleep(hold_ms / 1000)
        if form.cleaned_data.get("fail"):
            raise SimulatedFailure("this request was asked to fail after it enqueued its job")

    def started(self, task=None, job=None):
        """Redirect back to the page, saying which task and job started (the headers say it to the lab)."""
        response = redirect(self.get_success_url())
        if task is not None:
            response[TASK_ID_HEADER] = str(task.pk)
        if job is not None:
            response[JOB_ID_HEADER] = job.id
        if task is None and job is not None:  # fix 3: its row waits on the page for the job's task
            self.request.session[AWAITING_JOB] = job.id
        messages.info(self.request, started_message(task, job))
        return response


def started_message(task, job):
    """What the page says after a submit: the task, and its job (or why there is no job id yet)."""
    if task is None:
        what = "No task yet: the job creates it"
    else:
        what = f"Started task {task.pk}"
    if job is not None:
        return f"{what}; enqueued job {job.id}. Its row below updates by itself."
    return f"{what}; its job is enqueued when the transaction commits (no job id yet). Its row updates by itself."


class ExerciseIndexView(TemplateView):
    """``/exercises/``: every exercise, and the page the live web serves for it."""

    template_name = "tasks/exercises.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["exercises"] = [
            (exercise, reverse(f"exercises:{exercise.slug}") if exercise.view else None)
            for exercise in exercise_registry.load()
        ]
        return context
