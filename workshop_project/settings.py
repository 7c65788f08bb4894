"""Settings for the workshop project, read from the environment.

Every value a learner or the containers may want to change comes from an
environment variable (django-environ), with a default that works in local
mode without any configuration at all.
"""

import contextlib
import os
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from .redis_urls import celery_redis_url

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.str("WORKSHOP_DATA_DIR", default=str(BASE_DIR / "data")))


# A workshop project that only ever listens on loopback or inside the compose
# network; still, no key is shared by every checkout: one is made the first
# time (a file in the data folder, which git and the image leave out) and
# kept. DEBUG shows learners the full error pages they will want to read;
# safety.ReporterFilter keeps passwords in URLs off them.
def _secret_key(folder):
    from django.core.management.utils import get_random_secret_key

    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".secret_key.")  # mode 600
        with os.fdopen(descriptor, "w") as file:
            file.write(get_random_secret_key() + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
        os.unlink(temporary)
    try:
        return path.read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(
            f"cannot read the secret key in {path} ({error.strerror}): delete the file (a new one is made), "
            "or set DJANGO_SECRET_KEY"
        ) from None


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _secret_key(DATA_DIR)
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "web", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_extensions",
    "django_rq",
    "django_tasks_db",
    "workshop_project.tasks",
    "lab",
]

MIDDLEWARE = [
    "workshop_project.safety.BodySizeMiddleware",  # first: a body no form needs is refused unread
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "workshop_project.safety.DatabaseBusyMiddleware",
]

# The forms here send a URL and a few fields (well under 1 KB); the rq dashboard's bulk actions
# a page of job ids. A bigger body is refused before it is read (safety.BodySizeMiddleware),
# its form fields also by Django's own limit.
WORKSHOP_MAX_REQUEST_BYTES = env.int("WORKSHOP_MAX_REQUEST_BYTES", default=64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WORKSHOP_MAX_REQUEST_BYTES

DEFAULT_EXCEPTION_REPORTER_FILTER = "workshop_project.safety.ReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "workshop_project.safety.ExceptionReporter"

ROOT_URLCONF = "workshop_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "workshop_project.wsgi.application"

# --- Database -------------------------------------------------------------
# SQLite in the data folder unless DATABASE_URL says otherwise. The test
# database is a file too (never ":memory:"): the worker, running on another
# connection or in another process, must see what a test committed.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'workshop.sqlite3'}"),
    # A second alias, for the lesson on what django-rq's on_db_commit mode
    # does not watch: it defers .delay() only for transactions on "default".
    "second": env.db("SECOND_DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'second.sqlite3'}"),
}
for database in DATABASES.values():
    database["ATOMIC_REQUESTS"] = True  # the article's setting: the subject of the workshop
    if database["ENGINE"] == "django.db.backends.sqlite3":
        stem = Path(database["NAME"]).stem
        # WAL lets the web, the worker and the notebook read while one writes;
        # the timeout makes a writer wait for the lock instead of failing.
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL;",
            "timeout": env.float("SQLITE_TIMEOUT_SECONDS", default=20),
        }
        # The test database is a file, never ":memory:": the worker, on another
        # connection or in another process, must see what a test committed.
        database["TEST"] = {"NAME": str(DATA_DIR / f"test-{stem}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and django-rq --------------------------------------------------
# Local mode: one setting per service, the one `bin/run` starts the service with
# (REDIS_PORT, WEB_BIND); the URLs the app uses follow from it. The containers set
# REDIS_URL and WORKSHOP_WEB_URL instead (other hosts); bin/run follows those too.
REDIS_PORT = env.int("REDIS_PORT", default=6379)
REDIS_URL = env.str("REDIS_URL", default=f"redis://127.0.0.1:{REDIS_PORT}/0")

RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
    # django-tasks-rq's jobs (lesson 13): they need a worker of their own, with the job class
    # django_tasks_rq.Job, which runs only django.tasks tasks (lab.lessons starts one while it measures).
    "django_tasks": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
}

RQ = {
    # django-rq >= 4 defaults to "on_db_commit": inside a transaction .delay()
    # is deferred until the commit, which hides the 2019 bug this workshop is
    # about. "auto" restores the old behaviour (enqueue at once), so the
    # article's code fails here as it did then. Lessons 06 to 08 ask for the
    # modern mode explicitly, queue by queue, and show what it fixes and what
    # it does not.
    "COMMIT_MODE": "auto",
    # django-rq's queue, noting each task's job as it is made, so the page reads
    # only its rows' jobs (not rq's whole failed-job registry): tasks/queues.py.
    "QUEUE_CLASS": "workshop_project.tasks.queues.TaskQueue",
}

# --- Celery and django.tasks (lesson 13, exercise 10) ---------------------
# The same race on the other queues Django projects use. Celery's broker and
# results live on the same Redis server as rq's queues, in a database of their
# own: the one 8 away from rq's (redis_urls.py; the map is in test_settings.py).
CELERY_BROKER_URL = celery_redis_url(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TRACK_STARTED = True  # a result says STARTED while the worker runs it
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # one message at a time, as rq takes jobs
CELERY_RESULT_EXTENDED = True  # a result records the task's name and arguments
CELERY_RESULT_EXPIRES = 3600
# Celery's default for acks_late's redelivery: a message taken but not acknowledged
# comes back after this many seconds (lesson 13 shortens it on its own queue).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

# Django's own tasks framework, one alias per backend the lesson measures.
# "default" is django-tasks-db: its queue is a table, so enqueueing
# is an INSERT in the request's transaction; `bin/run db-worker` polls it.
DB_WORKER_INTERVAL = env.float("DB_WORKER_INTERVAL", default=0.5)
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
    "dummy": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"},
    # django-tasks-rq: the job goes onto django-rq's "django_tasks" queue.
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["django_tasks"]},
}

# --- The workshop ---------------------------------------------------------
# The queue the outbox variant's rows name (lesson 10 sends some to a queue of its own).
WORKSHOP_OUTBOX_QUEUE = env.str("WORKSHOP_OUTBOX_QUEUE", default="default")
# Where the learner's browser, the notebooks and the worker find the web app.
WEB_BIND = env.str("WEB_BIND", default="127.0.0.1:8000")
WORKSHOP_WEB_URL = env.str("WORKSHOP_WEB_URL", default="http://127.0.0.1:" + WEB_BIND.rpartition(":")[2])
# The package the live web and worker take the learner's exercise code from
# ("solutions" serves the solved versions instead).
WORKSHOP_EXERCISE_PACKAGE = env.str("WORKSHOP_EXERCISE_PACKAGE", default="exercises")
# The job's fetch limits: a learner cannot hang or flood the worker.
FETCH_TIMEOUT_SECONDS = env.float("FETCH_TIMEOUT_SECONDS", default=5.0)
FETCH_MAX_BYTES = env.int("FETCH_MAX_BYTES", default=1_000_000)
# The whole fetch, redirects included, well under rq's 60 s job timeout.
FETCH_DEADLINE_SECONDS = env.float("FETCH_DEADLINE_SECONDS", default=15.0)
# Where the job may fetch from: public addresses and this app's own sample
# pages (WORKSHOP_WEB_URL/samples/). Loopback and private addresses are
# refused (JupyterLab's API, the admin, Redis are one URL away otherwise),
# unless listed here as URL prefixes, or all allowed at once (not advised).
FETCH_ALLOWED_URLS = env.list("FETCH_ALLOWED_URLS", default=[])
FETCH_ALLOW_PRIVATE_ADDRESSES = env.bool("FETCH_ALLOW_PRIVATE_ADDRESSES", default=False)

# The Django Shell-Plus kernel's name in Jupyter (written by django-extensions).
IPYTHON_KERNEL_DISPLAY_NAME = "Django Shell-Plus"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_row_polls": {"()": "workshop_project.tasks.logs.QuietRowPolls"}},
    "formatters": {
        # Django's own, for runserver's request lines (it is replaced, not extended, below).
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "null": {"class": "logging.NullHandler"},
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["quiet_row_polls"],
        },
    },
    "loggers": {
        # The amplifier's in-thread workers are quiet: the lab reads what they
        # did from rq's registries. The live worker (rqworker) logs as usual.
        "lab.core.amplifier": {"handlers": ["null"], "propagate": False},
        # django.tasks logs each task's start and end at INFO: in a notebook (lesson 13's
        # ImmediateBackend runs in the kernel) that is two lines of noise per task.
        "django.tasks": {"level": "WARNING"},
        # runserver's request log (the `make up` console), less each pending row's poll every second.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
