"""``make test``'s lanes (lab/testing/lanes.py): each lane has servers of its own, and the tally adds up."""

import subprocess
import sys

from lab.testing.lanes import marker_expression
from tests.conftest import process_env

PROBE = """
import os
import pytest

@pytest.mark.{marker}
def test_where(tmp_path_factory):
    out = os.path.join(os.environ["LANES_OUT"], "{marker}")
    with open(out, "w") as f:
        f.write(os.environ["REDIS_URL"] + "\\n" + os.environ["WORKSHOP_DATA_DIR"])
"""


def test_a_callers_marker_expression_narrows_each_lane():
    assert marker_expression("slow", ["-q", "-m", "not live", "tests/x.py"]) == (
        "(not live) and (slow)",
        ["-q", "tests/x.py"],
    )
    assert marker_expression("slow", ["-mnot live"]) == ("(not live) and (slow)", [])
    assert marker_expression("slow", ["--maxfail=1"]) == ("slow", ["--maxfail=1"])


def test_two_lanes_run_at_once_on_servers_of_their_own(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    one: a\n    two: b\n")
    (tmp_path / "test_one.py").write_text(PROBE.format(marker="one"))
    (tmp_path / "test_two.py").write_text(PROBE.format(marker="two"))
    (tmp_path / "test_failing.py").write_text("import pytest\n\n@pytest.mark.two\ndef test_no():\n    assert False\n")
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "lab.testing.lanes", "--lane", "one", "--lane", "two", "--"]
    command += ["-c", str(tmp_path / "pytest.ini"), "-p", "no:django", "-p", "no:randomly", str(tmp_path)]
    result = subprocess.run(command, env=process_env(LANES_OUT=str(out)), capture_output=True, text=True, timeout=120)
    one, two = ((out / name).read_text().splitlines() for name in ("one", "two"))
    assert one[0] != two[0], "both lanes used the same Redis"
    assert one[1] != two[1], "both lanes used the same data folder"
    assert result.returncode == 1, result.stdout  # lane two's failing test fails the run
    assert result.stdout.rstrip().splitlines()[-1] == "lanes: 2 passed, 1 failed"
