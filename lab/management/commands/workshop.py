"""``python manage.py workshop``: the workshop's own tools.

    doctor                 is every service up? (one line per problem, with its fix)
    race VARIANT           N trials of a variant: under the amplifier, or --live
    kernel                 install the "Django Shell-Plus" Jupyter kernel
"""

import json

from django.core.management.base import BaseCommand, CommandError

from lab import kernel, race, stack, web
from workshop_project.tasks.urls import VARIANTS


class Command(BaseCommand):
    help = "The workshop's tools: doctor, race, kernel."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        commands.add_parser("doctor", help="check every service, say how to fix what is down")
        trial = commands.add_parser("race", help="run a variant N times; print one JSON line")
        trial.add_argument("variant", help=f"one of {', '.join(VARIANTS)}, or an exercise such as ex04_on_commit")
        trial.add_argument("--runs", type=int, default=None, help="trials (default 50 under the amplifier, 20 live)")
        trial.add_argument("--live", action="store_true", help="over HTTP against the running web and worker")
        trial.add_argument("--hold-ms", type=int, default=None, help="keep each transaction open this long (default 0; 200 live)")
        commands.add_parser("kernel", help="install the Django Shell-Plus Jupyter kernel")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_doctor(self, **options):
        if not stack.doctor(stream=self.stdout):
            raise SystemExit(1)

    def handle_race(self, variant, runs, live, hold_ms, **options):
        try:
            if live:
                row = race.live(variant, runs=runs or 20, hold_ms=200 if hold_ms is None else hold_ms)
            else:
                row = race.amplified(variant, runs=runs or 50, hold_ms=hold_ms or 0)
        except web.WebUnavailable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(row))

    def handle_kernel(self, **options):
        self.stdout.write(f"Installed the Django Shell-Plus kernel in {kernel.install()}")
