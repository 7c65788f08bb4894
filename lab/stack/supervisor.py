"""Keep one command running: restart it when it exits, and when a watched Python file changes.

    python -m lab.stack.supervisor [--watch FOLDER]... -- COMMAND...

``bin/run worker`` runs the rq worker through this. rq never reloads code,
so a changed file restarts the worker; and a worker that dies (Redis went
away while a job finished, a kill) comes back by itself, after a back-off
that doubles from 1 s to 30 s while it keeps dying quickly.

The command runs in its own process group, and a restart stops all of it:
SIGINT (rq's warm shutdown), then SIGKILL, after the grace period, for the
group and for every process the command started (rq's work horse runs in a
session of its own). The grace is a job's time: ``--grace`` (or
$WORKSHOP_RESTART_GRACE), 75 s by default, past rq's 60 s job timeout. So a
save while a job runs waits for the job (or for rq to time it out and record
the failure) instead of killing it; a job still running after the grace is
stopped by the worker itself and requeued for the next one
(``lab/stack/worker.py``); whatever is left 10 s later is SIGKILLed. When the
worker dies by itself (Redis went away, a kill), its scheduler is stopped
at once and a job in hand may finish first, so it is neither lost nor run
twice. rq's ``--with-scheduler`` child and a work horse never outlive their
worker, and the next worker starts only once all of them are gone.

SIGTERM or SIGINT to the supervisor stops the group (SIGKILL after 5 s) and exits.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import psutil

JOB_GRACE_SECONDS = 75.0  # a job in hand may finish, or time out in rq (its default timeout: 60 s)
STOP_GRACE_SECONDS = 5.0  # when the supervisor itself is told to stop
KILL_MARGIN_SECONDS = 10.0  # after the grace: time for the worker to stop and requeue the job itself
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
STABLE_SECONDS = 30.0  # a run this long resets the back-off
PR_SET_CHILD_SUBREAPER = 36  # prctl(2), Linux


def say(message):
    print(f"[supervisor] {message}", file=sys.stderr, flush=True)


def become_subreaper():
    """Linux: make the command's orphans this process's children, not init's.

    rq's work horse runs in a session of its own; once its worker is killed it
    is an orphan, and a horse forked less than a second before the kill was
    not seen yet: the next worker could start (and requeue the job the dead
    worker had started) while that horse still runs it. As a "child
    subreaper" the supervisor adopts every orphan of the command, so
    ``descendants`` finds them all. Elsewhere (macOS) the descendants seen each
    second are what it has.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(process):
    """Every process below ``process`` now, and every orphan of it this supervisor adopted."""
    found = {}
    for parent in (os.getpid(), process.pid):  # the leader's own, while it lives; ours: adopted orphans too
        with contextlib.suppress(psutil.Error):
            found.update({child.pid: child for child in psutil.Process(parent).children(recursive=True)})
    found.pop(process.pid, None)
    return list(found.values())


def running(child):
    """Alive and not a zombie; an adopted orphan that has exited is reaped here."""
    try:
        if child.status() == psutil.STATUS_ZOMBIE:
            with contextlib.suppress(OSError):
                os.waitpid(child.pid, os.WNOHANG)  # ours only if adopted; anyone else's: ChildProcessError
            return False
        return child.is_running()
    except psutil.Error:
        return False


def stop_all(process, known, grace=JOB_GRACE_SECONDS, hurry=None):
    """Stop the command and every process it started; ``known`` are descendants seen earlier.

    SIGINT to the process group first (rq's warm shutdown: the job in hand
    finishes). After ``grace``, SIGKILL to the group and to every known
    descendant: rq's work horse runs in a session of its own (``os.setsid``),
    so a group signal alone never reaches it. Once ``hurry`` is set (the
    supervisor was told to stop meanwhile), the grace shrinks to 5 s.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGINT)  # start_new_session: the group id is the leader's pid
    everyone = {child.pid: child for child in [*known, *descendants(process)]}
    began = time.monotonic()
    deadline = began + grace
    while time.monotonic() < deadline:
        if hurry is not None and hurry.is_set():
            deadline = min(deadline, began + STOP_GRACE_SECONDS)
        everyone.update({child.pid: child for child in descendants(process)})
        if process.poll() is not None and not any(running(child) for child in everyone.values()):
            break
        time.sleep(0.05)
    else:
        say(f"still running {grace:g} s after SIGINT: SIGKILL to pid {process.pid} and everything it started")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for child in everyone.values():
        with contextlib.suppress(psutil.Error):
            child.kill()  # psutil checks it is still the same process (no pid reuse)
    process.wait()
    psutil.wait_procs(list(everyone.values()), timeout=grace)


def watcher(folders, changed, stop):
    """Set ``changed`` whenever a Python file under ``folders`` changes (watchfiles)."""
    from watchfiles import PythonFilter, watch

    # WATCHFILES_FORCE_POLLING=1 is read by watchfiles itself.
    for changes in watch(*folders, watch_filter=PythonFilter(), stop_event=stop, raise_interrupt=False):
        say(f"{len(changes)} change(s), e.g. {sorted(path for _, path in changes)[0]}: restarting")
        changed.set()


def supervise(command, folders=(), grace=JOB_GRACE_SECONDS):
    stop, changed = threading.Event(), threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if folders:
        threading.Thread(target=watcher, args=(folders, changed, stop), daemon=True).start()

    become_subreaper()
    backoff = BACKOFF_FIRST
    while not stop.is_set():
        changed.clear()
        started = time.monotonic()
        process = subprocess.Popen(command, start_new_session=True)
        say(f"started {' '.join(command)} (pid {process.pid})")
        known = []
        while not stop.is_set() and not changed.is_set() and process.poll() is None:
            known = descendants(process) or known  # remembered: they outlive the leader otherwise
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(1.0)  # its death is seen at once: its group is stopped without delay
        if process.poll() is None:  # asked to stop, or a file changed
            if stop.is_set():  # Ctrl-C, docker stop: honcho and Docker kill what is left after 5 and 10 s
                stop_all(process, known, STOP_GRACE_SECONDS)
                break
            say(f"restarting pid {process.pid}: a job in hand may finish first (up to {grace:g} s)")
            stop_all(process, known, grace, hurry=stop)
            backoff = BACKOFF_FIRST
            continue
        # The leader exited by itself: its scheduler goes at once (SIGINT to the
        # group); a work horse (its own session) may finish the job in hand, so
        # the job is neither lost nor run twice; then the worker starts again.
        stop_all(process, known, grace, hurry=stop)
        if stop.is_set():
            break
        if time.monotonic() - started > STABLE_SECONDS:
            backoff = BACKOFF_FIRST
        say(f"exited with status {process.returncode}: starting it again in {backoff:g} s")
        stop.wait(backoff)  # a file change does not cut the back-off short: the worker is failing anyway
        backoff = min(backoff * 2, BACKOFF_MAX)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watch", action="append", default=[], metavar="FOLDER", help="restart when a .py changes")
    parser.add_argument(
        "--grace",
        type=float,
        default=float(os.environ.get("WORKSHOP_RESTART_GRACE") or JOB_GRACE_SECONDS),
        help="seconds a restart lets the job in hand run (the worker then requeues it); SIGKILL 10 s later",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, after --")
    folders = [folder for folder in args.watch if os.path.isdir(folder)]
    return supervise(command, folders, args.grace + KILL_MARGIN_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
