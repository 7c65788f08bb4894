"""The article's model, Task, and the transactional outbox's, Outbox (lesson 10)."""

import os
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from rq import get_current_job

from . import job_registry, sqlite_ids

#: The page (variant or exercise) whose request is running, and whether the lab sent it.
#: Set by ``TaskFormView.dispatch``; read when a task is created, whoever's code creates it.
started_from = ContextVar("started_from", default=("", False))
#: The key of a job's meta that carries ``started_from`` to the worker.
STARTED_FROM_META = "started_from"
#: Set by the notebooks' kernel (lab/stack/kernel.py): a task a lesson creates with the ORM is the lab's.
LAB_KERNEL_ENV = "WORKSHOP_LAB_KERNEL"


def _started_the_current_job():
    """In a worker: the (page, lab) of the request that enqueued the running job, which the
    project's queue notes in the job's meta (``queues.TaskQueue``); ("", False) outside a job."""
    job = get_current_job()
    page, lab = (job.meta.get(STARTED_FROM_META) or ("", False)) if job is not None else ("", False)
    return page, bool(lab)


def current_page():
    """The page of this request, or, in a job, of the request that enqueued it (fix 3's job creates the task)."""
    return started_from.get()[0] or _started_the_current_job()[0]


def current_is_lab():
    """Whether the lab started this task: a request it sent, a job such a request enqueued, or a lesson's own
    cell (lesson 02's stale read and its queue no worker reads create rows with the ORM; the page listed them
    as "pending for 5 minutes: is the worker running?" while the worker ran fine)."""
    return bool(os.environ.get(LAB_KERNEL_ENV)) or started_from.get()[1] or _started_the_current_job()[1]


class TaskQuerySet(models.QuerySet):
    def pending(self):
        """Tasks the worker has not finished: no result yet (NULL, or the empty string).

        A task whose fetch ended in an error has a result ("error: ..."): it is
        done, not pending, and must not be fetched again and again."""
        return self.filter(models.Q(result__isnull=True) | models.Q(result=""))


class Task(models.Model):
    """A URL to measure. The view creates it; the worker fills in the rest.

    The fields are the 2019 article's, so its code reads the same here.
    """

    created_on = models.DateTimeField(auto_now_add=True)
    url = models.CharField(max_length=128)
    url_length = models.PositiveIntegerField(blank=True, null=True)
    # The article's fields, kept as it wrote them: NULL means "not yet" (DJ001 would prefer "").
    job_id = models.CharField(max_length=128, blank=True, null=True)  # noqa: DJ001
    result = models.CharField(max_length=128, blank=True, null=True)  # noqa: DJ001
    # Not the article's: where the task came from, for the page's list. The variant or exercise
    # whose page started it (blank when a job created it), and whether a notebook's experiment did.
    page = models.CharField(max_length=64, blank=True, default=current_page)
    lab = models.BooleanField(default=current_is_lab)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_on", "-id"]

    def __str__(self):
        return f"Task {self.pk}: {self.url} ({self.status})"

    def save(self, *args, **kwargs):
        """On SQLite, a new task takes its id from ``sqlite_ids``: never one a rolled-back
        request had (PostgreSQL's sequence already guarantees it). A task created inside a job
        records that job's id at once."""
        if self.pk is None and self.job_id is None and (job := get_current_job()) is not None:
            self.job_id = job.id  # a task a job creates is its job's from the start: the page finds it by it
        if self.pk is None:
            self.pk = sqlite_ids.next_id(type(self), kwargs.get("using"))
            if self.pk is not None:
                kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    @property
    def status(self):
        """pending until the worker writes a result; then OK or error (as ``objects.pending()``)."""
        if not self.result:
            return "pending"
        return "OK" if self.result == "OK" else "error"


def unknown_queue(name):
    """The sentence for a row whose queue is not in ``RQ_QUEUES`` (the relay writes it on the row too)."""
    return (
        f"Unknown queue {name!r}: it is not in RQ_QUEUES ({', '.join(settings.RQ_QUEUES)}); "
        "the row waits for a relay whose settings have it."
    )


def validate_queue(name):
    """``Outbox.queue``'s validator (the admin's form): a queue the settings know."""
    if name not in settings.RQ_QUEUES:
        raise ValidationError(unknown_queue(name))


class Outbox(models.Model):
    """A job to enqueue, written in the same transaction as the data it is about.

    The request never talks to Redis: it inserts this row next to its Task, so
    both commit or neither does. The relay (``manage.py relay``, see
    ``lab/stack/relay.py``) reads the rows that are not sent yet, enqueues each one with
    a job id made from the row's key, and marks it sent.
    """

    created_on = models.DateTimeField(auto_now_add=True)
    #: The job's idempotency key, made with the row. Not the row's id: a database made
    #: anew (a reset, a new test database) hands out id 1 again while Redis may still
    #: hold the old ``outbox-1`` (rq keeps it ``DEDUP_TTL``), and the new row's job
    #: would be refused as a duplicate and never run.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    queue = models.CharField(max_length=64, default="default", validators=[validate_queue])
    #: A registered job's dotted path (job_registry.py): never any function, the relay imports nothing a row names.
    func = models.CharField(
        max_length=255,
        validators=[job_registry.validate],
        help_text="A registered job's dotted path: workshop_project.tasks.jobs.get_url_length",
    )
    args = models.JSONField(default=list, blank=True)
    sent_on = models.DateTimeField(blank=True, null=True)
    #: Failed sends that were this row's own fault (not a Redis outage); the relay gives up at its limit.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "outbox"
        # The relay's question, "what is not sent yet, oldest first?", stays an index scan.
        indexes = [models.Index(fields=["sent_on", "id"], name="outbox_unsent")]

    def __str__(self):
        state = f"sent {self.sent_on:%H:%M:%S}" if self.sent_on else f"waiting, {self.attempts} failed attempts"
        return f"Outbox {self.pk}: {self.func.rsplit('.', 1)[-1]}{tuple(self.args)} ({state})"

    @property
    def job_id(self):
        """The job's id, the same on every send: rq's ``unique=True`` then refuses a second copy."""
        return f"outbox-{self.key}"
