"""Mutation grading for exercise 07: do the learner's tests catch a broken view?

The grader runs the learner's test file once, in a fresh pytest process,
with this module as a plugin (``-p lab.grader.mutation``). Every test runs once per
version of the on_commit view (``/variants/on_commit/``): the correct one
and each broken copy in ``broken_views``, patched in for that run. The plugin writes, for
each version, which tests passed and which failed (with their first line) to
the JSON file named by ``WORKSHOP_MUTATION_REPORT``. Good tests pass on the
correct view and fail on every broken one.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .broken_views import MUTANTS

REPORT_ENV = "WORKSHOP_MUTATION_REPORT"


VERSIONS = ["correct", *MUTANTS]


# --- The plugin, inside the learner's pytest run ----------------------------------


# Per test file (several learners' files can run in one process): test names, per version.
_results: dict = {}
_collection_errors: dict = {}
_changed: dict = {}  # file -> what it changed in the process, one phrase each


def _file_key(path) -> str:
    return str(Path(path).resolve())


def _results_of(path) -> dict:
    return _results.setdefault(_file_key(path), {version: {"passed": [], "failed": []} for version in VERSIONS})


def pytest_configure(config):
    from lab.grader.plugin import use_own_test_databases

    use_own_test_databases("mutation")


def pytest_generate_tests(metafunc):
    if "workshop_view" in metafunc.fixturenames:
        metafunc.parametrize("workshop_view", VERSIONS, indirect=True)


# Several learners' files run in this one process: what one file changes (a setting, a signal receiver, a
# patched class) must not decide another's verdict. A snapshot of the process is compared and put back after
# each file is imported and around each test; what changed is reported for the file that changed it.
_process: dict = {}


def _put_back(snapshot_name, path) -> None:
    snapshot = _process.get(snapshot_name)
    found = snapshot.changes() if snapshot else []
    if found:
        noted = _changed.setdefault(_file_key(path), [])
        noted += [phrase for phrase in found if phrase not in noted]
        snapshot.restore()


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    from .invariants import Snapshot

    _process["imports"] = Snapshot.take()  # before any learner file is imported


@pytest.fixture(scope="session")
def _process_as_found(django_db_setup):
    """The process once the test databases are set up (which changes settings), before any test runs."""
    from .invariants import Snapshot

    _process["tests"] = Snapshot.take()
    yield
    _process.pop("tests", None)


@pytest.fixture(autouse=True)
def workshop_view(request, monkeypatch, _process_as_found):
    """Serve this version of the on_commit view for the duration of one test (and put back what the test
    changed in the process, once the broken view is gone again)."""
    from workshop_project.tasks.variants import on_commit

    if request.param != "correct":
        monkeypatch.setattr(on_commit.View, "form_valid", MUTANTS[request.param])
    yield request.param
    monkeypatch.undo()
    _put_back("tests", request.path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    version = getattr(item, "callspec", None) and item.callspec.params.get("workshop_view")
    if not version or not (report.failed or report.when == "call"):
        return
    results = _results_of(item.path)[version]
    name = item.name.replace(f"[{version}]", "").replace(f"-{version}]", "]").replace(f"[{version}-", "[")
    if report.failed:
        first_line = call.excinfo.exconly().strip().splitlines()[0] if call.excinfo else report.longreprtext[:200]
        results["failed"].append([name, first_line[:300]])
    elif report.when == "call":
        results["passed"].append(name)


def pytest_collectreport(report):
    if str(report.fspath or "").endswith(".py"):  # a file was imported: what did it change?
        _put_back("imports", report.fspath)
    if report.failed:  # e.g. a fixture or import the file needs is missing
        lines = [line for line in report.longreprtext.strip().splitlines() if line.strip()]
        where = report.fspath or report.nodeid.split("::")[0]
        _collection_errors.setdefault(_file_key(where), []).append(
            lines[-1] if lines else "the file could not be collected"
        )


def pytest_sessionfinish(session):
    path = os.environ.get(REPORT_ENV)
    if path:
        report = {"results": _results, "errors": _collection_errors, "changed": _changed}  # keyed by the test file
        with open(path, "w") as stream:
            json.dump(report, stream)


# --- The grader's side ------------------------------------------------------------


class Run:
    """Learners' test files (one, or several side by side), each running under every
    version of the view, in one pytest process."""

    def __init__(self, test_files, timeout=300):
        from django.conf import settings

        from workshop_project.test_settings import redis_url_beside

        self.files = [Path(test_file) for test_file in test_files]
        self.folder = tempfile.mkdtemp(prefix="workshop-mutation-")
        self.report_path = Path(self.folder) / "report.json"
        self.timeout = timeout
        self._finished = None
        env = {
            **os.environ,
            REPORT_ENV: str(self.report_path),
            "TEST_REDIS_URL": redis_url_beside(settings.RQ_QUEUES["default"]["URL"]),
            # its own test databases too (its data folder), whatever else runs beside it
            "WORKSHOP_DATA_DIR": self.folder,
        }
        command = [sys.executable, "-m", "pytest", "--noconftest", "-p", "lab.grader.mutation", "-q", "--nomigrations"]
        self.process = subprocess.Popen(
            [*command, *map(str, self.files)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait(self):
        """Until the learner's tests have run (or the run's own timeout has passed)."""
        self._wait()

    def _wait(self):
        if self._finished is not None:
            return self._finished
        try:
            output, _ = self.process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            self._finished = ({}, f"your tests were still running after {self.timeout} s", "")
            return self._finished
        try:
            self._finished = (json.loads(self.report_path.read_text()), None, output or "")
        except (FileNotFoundError, ValueError):
            tail = (output or "").strip().splitlines()[-1:] or ["no output"]
            self._finished = ({}, f"pytest could not run your tests: {tail[0]}", output or "")
        return self._finished

    def result(self, test_file=None):
        """Wait for the run; return one file's report:
        ``{"results": {version: {"passed", "failed"}}, "errors": [...], "changed": [...], "output": ...}``."""
        report, problem, output = self._wait()
        key = _file_key(test_file or self.files[0])
        errors = [problem] if problem else list(report.get("errors", {}).get(key, []))
        results = report.get("results", {}).get(key, {})
        if not results and not errors and not problem:
            results = {version: {"passed": [], "failed": []} for version in VERSIONS}
        changed = list(report.get("changed", {}).get(key, []))
        return {"results": results, "errors": errors, "changed": changed, "output": output[-4000:]}

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
