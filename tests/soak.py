"""Soak: N concurrent submissions to the on_commit variant while Redis stops for 5 s and
the worker is killed once; then recovery; then every accepted task measured exactly once.

    python -m tests.soak [--postgres] [--submissions 200] [--threads 20]

Everything is the stack's own, started on free ports with private data:
Redis as ``bin/run redis`` runs it (append-only file), the web app
(``manage.py runserver``), the supervised worker (``bin/run worker``), and
SQLite or (``--postgres``) PostgreSQL. Each submission asks for a sample page
of its own size (``/samples/<n>/``), so the web's access log counts how often
each task's page was fetched.

The faults: a third of the way into the submissions Redis is stopped
(SIGTERM) and started again 5 s later; two thirds in, the rq worker is
killed (SIGKILL; its supervisor starts it again). A request whose commit
found Redis down answered 500, but its task is committed: it is "accepted"
and must be measured too. Recovery: wait until the queue is empty, then the
reconciler (solutions/ex08's ``reconcile``: it enqueues an idempotent job for
every task still pending), then wait again.

Prints one JSON line of figures; exits 1 if any task is lost (pending),
fetched twice, or not OK. Bounded: every wait has a deadline, all on loopback.
"""

import argparse
import collections
import concurrent.futures
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from lab import testing

BASE_DIR = testing.BASE_DIR
DEADLINE = 180.0


@contextlib.contextmanager
def persistent_redis(port, folder):
    """A Redis as ``bin/run redis`` runs it (append-only file in ``folder``)."""
    import redis

    client = redis.Redis(port=port)
    command = testing.redis_command(port, folder, persist=True)
    with testing.running(command, "redis-server", client.ping, stdout=subprocess.DEVNULL):
        yield


def browser(page):
    """A session that has loaded the form (its CSRF cookie), as a learner's browser has."""
    session = requests.Session()
    session.get(page, timeout=60).raise_for_status()
    return session


def post(session, page, url):
    data = {"url": url, "hold_ms": 0, "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")}
    try:
        return session.post(page, data=data, allow_redirects=False, timeout=60, headers={"Referer": page}).status_code
    except requests.RequestException as error:
        return type(error).__name__


def wait(condition, what, timeout=DEADLINE):
    testing.wait_until(condition, what, timeout=timeout)


def soak(submissions, threads, postgres):
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="workshop-soak-"))
        env = {"WORKSHOP_DATA_DIR": data, "DJANGO_SETTINGS_MODULE": "workshop_project.settings"}
        if postgres:
            url = stack.enter_context(testing.postgres_server())
            env.update(DATABASE_URL=url, SECOND_DATABASE_URL=url.rsplit("/", 1)[0] + "/workshop_second")
        redis_port = testing.free_port()
        redis_dir = Path(data) / "redis"
        redis_dir.mkdir()
        env.update(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
        os.environ.update(env)  # this process's Django: the same databases and Redis
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django_rq import get_connection, get_queue
        from rq import Worker

        from solutions.ex08_lost_jobs.recovery import reconcile
        from workshop_project.tasks.models import Task

        redis_holder = contextlib.ExitStack()
        redis_holder.enter_context(persistent_redis(redis_port, redis_dir))
        stack.callback(redis_holder.close)

        web_port = testing.free_port()
        web = f"http://127.0.0.1:{web_port}"
        log_path = Path(data) / "web.log"
        web_log = stack.enter_context(open(log_path, "w"))
        child_env = testing.django_env(**env, WORKSHOP_WEB_URL=web)
        stack.enter_context(
            testing.running(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web_port}"],
                "the web server",
                lambda: requests.get(f"{web}/healthz", timeout=2).ok,
                env=child_env,
                cwd=BASE_DIR,
                stdout=web_log,
                stderr=subprocess.STDOUT,
            )
        )
        worker_log = stack.enter_context(open(Path(data) / "worker.log", "w"))
        worker = subprocess.Popen(
            ["bin/run", "worker"],
            cwd=BASE_DIR,
            env={**child_env, "WORKSHOP_WATCH": str(Path(data) / "nothing")},
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def stop_worker():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)

        stack.callback(stop_worker)
        connection = get_connection("default")

        def live_workers():
            return [w for w in Worker.all(connection=connection) if _alive(w.pid)]

        wait(live_workers, "the worker")

        page = f"{web}/variants/on_commit/"
        sizes = [1000 + n for n in range(submissions)]
        statuses, faults = [], {}
        sent = collections.Counter()

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            sessions = list(pool.map(lambda _: browser(page), sizes))
        lock = threading.Lock()

        def submit(job):
            session, size = job
            status = post(session, page, f"{web}/samples/{size}/")
            with lock:
                sent["done"] += 1
            return status

        def faults_thread():
            wait(lambda: sent["done"] >= submissions // 3, "a third of the submissions")
            faults["redis_stopped_at"] = sent["done"]
            redis_holder.close()  # SIGTERM: the append-only file is flushed
            time.sleep(5)  # the outage itself (a fault, not a wait for something)
            redis_holder.enter_context(persistent_redis(redis_port, redis_dir))
            faults["redis_started_at"] = sent["done"]
            wait(lambda: sent["done"] >= 2 * submissions // 3, "two thirds of the submissions")
            wait(live_workers, "a worker after the outage")
            victim = live_workers()[0].pid
            os.kill(victim, signal.SIGKILL)
            faults["worker_killed_at"] = sent["done"]

        fault_runner = threading.Thread(target=faults_thread, daemon=True)
        fault_runner.start()
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(submit, zip(sessions, sizes, strict=True)))
        fault_runner.join(DEADLINE)

        def drained():
            """Nothing queued, and the worker idle (a job the killed worker had stays in rq's
            started registry until rq's clean-up, a minute later: it does not count)."""
            workers = live_workers()
            return get_queue("default").count == 0 and workers and all(w.get_state() == "idle" for w in workers)

        wait(drained, "the queue to drain after the faults")
        pending_before = Task.objects.filter(result__isnull=True).count()
        reconciled = reconcile(older_than=__import__("datetime").timedelta(0))
        wait(drained, "the queue to drain after the reconciler")
        wait(lambda: not Task.objects.filter(result__isnull=True).exists(), "every task measured", timeout=60)

        fetches = collections.Counter(
            int(size) for size in re.findall(r'"GET /samples/(\d+)/ HTTP', log_path.read_text())
        )
        tasks = list(Task.objects.all())
        by_size = {int(task.url.rstrip("/").rsplit("/", 1)[1]): task for task in tasks}
        figures = {
            "database": "postgresql" if postgres else "sqlite",
            "submissions": submissions,
            "http": dict(collections.Counter(str(status) for status in statuses)),
            "accepted_tasks": len(tasks),
            "faults": faults,
            "pending_before_reconcile": pending_before,
            "reconciled": reconciled,
            "ok": sum(task.result == "OK" for task in tasks),
            "pending": sum(task.result is None for task in tasks),
            "not_ok": sorted(task.result for task in tasks if task.result not in (None, "OK")),
            "fetched_once": sum(fetches[size] == 1 for size in by_size),
            "fetched_twice_or_more": sorted(size for size in by_size if fetches[size] > 1),
            "never_fetched": sorted(size for size in by_size if fetches[size] == 0),
            "rows_per_url_max": max(collections.Counter(task.url for task in tasks).values(), default=0),
            "seconds": round(time.monotonic() - started, 1),
        }
        good = (
            figures["pending"] == 0
            and not figures["not_ok"]
            and not figures["fetched_twice_or_more"]
            and not figures["never_fetched"]
            and figures["rows_per_url_max"] <= 1
            and figures["ok"] == len(tasks)
        )
        return figures, good


def _alive(pid):
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--threads", type=int, default=20)
    args = parser.parse_args(argv)
    figures, good = soak(args.submissions, args.threads, args.postgres)
    print(json.dumps(figures), flush=True)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
