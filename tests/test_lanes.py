"""``make test``'s lanes (lab/testing/lanes.py): each lane has servers of its own, and the tally adds up."""

import subprocess
import sys

from lab.testing.lanes import measured
from tests.conftest import process_env

PROBE = """
import os

def test_where():
    with open(os.path.join(os.environ["LANES_OUT"], "{name}"), "w") as f:
        f.write(os.environ["REDIS_URL"] + "\\n" + os.environ["WORKSHOP_DATA_DIR"])

def test_{name}_second():
    assert {outcome}
"""


def test_durations_come_from_the_junit_report_set_up_included(tmp_path):
    report = tmp_path / "lane1.xml"
    report.write_text(
        '<testsuites><testsuite tests="2">'
        '<testcase classname="tests.test_lanes" name="test_x[a]" time="612.5"/>'
        '<testcase classname="tests.browser.test_learner_path" name="test_y" time="3.25"/>'
        "</testsuite></testsuites>"
    )
    assert measured([report, tmp_path / "absent.xml"]) == {
        "tests/test_lanes.py::test_x[a]": 612.5,
        "tests/browser/test_learner_path.py::test_y": 3.25,
    }


def test_two_lanes_run_at_once_on_servers_of_their_own(tmp_path):
    """Four tests of no stored duration: pytest-split gives each lane one file of two."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_a.py").write_text(PROBE.format(name="a", outcome=False))
    (tmp_path / "test_b.py").write_text(PROBE.format(name="b", outcome=True))
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "lab.testing.lanes", "--lanes", "2", "--"]
    command += ["-c", str(tmp_path / "pytest.ini"), "-p", "no:django", "-p", "no:randomly", str(tmp_path)]
    result = subprocess.run(command, env=process_env(LANES_OUT=str(out)), capture_output=True, text=True, timeout=120)
    a, b = ((out / name).read_text().splitlines() for name in ("a", "b"))
    assert a[0] != b[0], "both lanes used the same Redis"
    assert a[1] != b[1], "both lanes used the same data folder"
    assert result.returncode == 1, result.stdout  # lane 1's failing test fails the run
    assert result.stdout.rstrip().splitlines()[-1] == "lanes: 3 passed, 1 failed"
