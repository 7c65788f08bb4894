"""``python manage.py relay``: send the outbox's rows to rq, until stopped.

    python manage.py relay                 poll every 0.5 s, send what waits
    python manage.py relay --once          one pass, print what it did, exit
    python manage.py relay --check         exit 0 if a relay's heartbeat is fresh (the health check)

See ``lab/stack/relay.py`` for what a pass does and why.
Stopping (Ctrl-C, SIGTERM) finishes the current pass first: a row is never
left enqueued but unmarked by a clean stop.
"""

import logging
import signal
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from lab.stack import relay as stack_relay
from workshop_project.tasks import outbox


class Command(BaseCommand):
    help = "Send the outbox's unsent rows to rq (the transactional outbox's relay)."
    # No system checks: `--check` is the container's health probe and must not touch the
    # database, and the relay starts after `migrate`, which ran them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=outbox.POLL_INTERVAL, help="seconds between passes")
        parser.add_argument("--batch", type=int, default=outbox.BATCH, help="rows per pass (one transaction)")
        parser.add_argument("--max-attempts", type=int, default=outbox.MAX_ATTEMPTS, help="failed sends per row")
        parser.add_argument("--heartbeat", type=Path, default=None, help="file touched after every pass")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--check", action="store_true", help="exit 0 if the heartbeat is fresh, 1 if not")

    def handle(self, *args, interval, batch, max_attempts, heartbeat, once, check, **options):
        if check:
            self.check_heartbeat()
            return
        heartbeat = heartbeat or outbox.heartbeat_path()
        if once:
            self.stdout.write(str(stack_relay.relay_once(batch, max_attempts)))
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
        relay = stack_relay.Relay(interval=interval, batch=batch, max_attempts=max_attempts, heartbeat=heartbeat)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: relay.stopping.set())
        self.stdout.write(f"relay: sending the outbox to rq every {interval:g} s (heartbeat: {heartbeat})")
        relay.run()
        self.stdout.write(f"relay: stopped after {relay.passes} passes ({relay.totals})")

    def check_heartbeat(self):
        age = outbox.last_pass_age()
        if age is None:
            sys.exit(f"No relay heartbeat at {outbox.heartbeat_path()}: is `bin/run relay` running?")
        if age > outbox.STALE_AFTER:
            sys.exit(f"The relay's last pass was {age:.0f} s ago (more than {outbox.STALE_AFTER:g} s): is it stuck?")
        self.stdout.write(f"relay: last pass {age:.1f} s ago")
