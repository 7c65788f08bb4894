"""``python manage.py workshop``: the workshop's own tools.

doctor                 is every service up? (one line per problem, with its fix)
race VARIANT           N trials of a variant: under the amplifier, or --live
kernel                 install the "Django Shell-Plus" Jupyter kernel
progress               your exercises as last graded (runs nothing)
reset EXERCISE         restore an exercise's starter; your version is kept as a backup
watch [EXERCISE]       grade the exercise you are on each time you save it; move on when it passes
redis                  run the stack's Redis in the foreground (what `bin/run redis` runs)
wait-redis             wait until the stack's Redis answers (the worker's first step)
"""

import json
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lab import testing
from lab.core import progress, web
from lab.lessons import lesson, race
from lab.stack import doctor, kernel
from lab.stack.advice import not_answering
from workshop_project import exercise_registry
from workshop_project.tasks.variants import VARIANTS


class Command(BaseCommand):
    help = "The workshop's tools: doctor, race, kernel, progress, reset, check, watch, redis, wait-redis."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        commands.add_parser("doctor", help="check every service, say how to fix what is down")
        trial = commands.add_parser("race", help="run a variant N times; print one JSON line")
        trial.add_argument("variant", help=f"one of {', '.join(VARIANTS)}, or an exercise such as ex04_on_commit")
        trial.add_argument("--runs", type=int, default=None, help="trials (default 50 under the amplifier, 20 live)")
        trial.add_argument("--live", action="store_true", help="over HTTP against the running web and worker")
        trial.add_argument(
            "--hold-ms", type=int, default=None, help="keep each transaction open this long (default 0; 200 live)"
        )
        commands.add_parser("kernel", help="install the Django Shell-Plus Jupyter kernel")
        commands.add_parser("progress", help="your exercises as last graded by `pytest exercises/` (runs nothing)")
        reset = commands.add_parser("reset", help="restore an exercise's starter, keeping your version as a backup")
        reset.add_argument("exercise", help="ex04_on_commit, ex04, 04 or 4")
        commands.add_parser("check", help="is every exercise wired up everywhere? (no services needed)")
        watch = commands.add_parser("watch", help="re-grade the exercise you are on at every save (Ctrl-C stops)")
        watch.add_argument("exercise", nargs="?", help="where to start (default: the first one not done)")
        serve = commands.add_parser("redis", help="run the stack's Redis on REDIS_URL's port; stopped after the worker")
        serve.add_argument("--check", action="store_true", help="only say which server would run, or why none can")
        wait = commands.add_parser("wait-redis", help="wait until the stack's Redis answers")
        wait.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def handle_doctor(self, **options):
        if not doctor.report(stream=self.stdout):
            raise SystemExit(1)

    def handle_race(self, variant, runs, live, hold_ms, **options):
        try:
            if live:
                row = race.live(variant, runs=runs or 20, hold_ms=200 if hold_ms is None else hold_ms)
            else:
                row = race.amplified(variant, runs=runs or 50, hold_ms=hold_ms or 0)
        except web.WebUnavailable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(row.as_dict()))

    def handle_kernel(self, **options):
        self.stdout.write(f"Installed the Django Shell-Plus kernel in {kernel.install()}")

    def handle_progress(self, **options):
        rows = progress.rows()
        if not rows:
            raise CommandError("there are no exercises: exercises/exercises.toml is missing")
        for row in rows:
            self.stdout.write(str(row))
        self.stdout.write(progress.summary(rows) + " Grade them again with: pytest exercises/")

    def handle_reset(self, exercise, **options):
        try:
            found = exercise_registry.find(exercise)
            done = progress.reset(found)
        except (LookupError, OSError) as error:
            raise CommandError(str(error)) from None
        path = exercise_registry.relative(found.path())
        if done.state == "already":
            self.stdout.write(f"{path} is already the starter: nothing to do.")
        elif done.state == "missing":
            self.stdout.write(f"{path} was missing: the starter is back (there was no version of yours to keep).")
        else:
            self.stdout.write(
                f"Restored the starter of {path}. Your version is kept in {exercise_registry.relative(done.backup)}."
            )

    def handle_watch(self, exercise, **options):
        try:
            start = exercise_registry.find(exercise) if exercise else None
        except LookupError as error:
            raise CommandError(str(error)) from None
        try:
            lesson.watch(start)
        except KeyboardInterrupt:
            self.stdout.write("\nStopped watching.")

    def handle_redis(self, check, **options):
        url = urlsplit(settings.REDIS_URL)
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise CommandError(f"REDIS_URL points at {url.hostname}, not this machine: there is nothing to start here")
        try:
            binary = testing.redis_binary()
        except testing.ServiceError as error:
            raise CommandError(str(error)) from None
        if check:
            self.stdout.write(f"Redis: {binary}, on port {url.port or 6379}")
            return
        raise SystemExit(testing.serve_redis(url.port or 6379, Path(settings.DATA_DIR) / "redis"))

    def handle_wait_redis(self, timeout, **options):
        url = settings.RQ_QUEUES["default"]["URL"]
        try:
            testing.wait_until(
                lambda: redis.Redis.from_url(url, socket_connect_timeout=1).ping(), "Redis", timeout=timeout
            )
        except testing.ServiceError:
            raise CommandError(f"Redis {not_answering('Redis', url)}") from None

    def handle_check(self, **options):
        from django.conf import settings

        from lab.grader import structure

        found = structure.problems(settings.BASE_DIR)
        for problem in found:
            self.stdout.write(problem)
        if found:
            raise CommandError(f'{len(found)} problem(s); see CONTRIBUTING.md, "Adding an exercise".')
        lessons = len(list((settings.BASE_DIR / "notebooks").glob("[0-9]*.ipynb")))
        self.stdout.write(f"{len(exercise_registry.load())} exercises and {lessons} lessons: everything in place.")
        from lab.core import lesson_stats

        self.stdout.write("Lessons: prose (words outside code) and the last executed time (make test):")
        self.stdout.write("\n".join(lesson_stats.report(settings.BASE_DIR)))
