"""What the image build leaves out, and what CI leaves alone.

- ``.dockerignore``: a used checkout's secrets (``.env``, ``.env.local``...)
  and the learner's backups (``exercises/backups/``) never go into an image.
  Matched with Docker's rules (Go's filepath.Match per pattern, ``**`` for
  any depth, the last matching line wins, ``!`` re-includes).
- ``.ci/run`` stops only a Redis it started itself: run for real, with stand-ins
  for the commands it drives (make, apt-get, service, bash for the container
  test), on a machine where redis-server is already installed.
"""

import os
import re
import subprocess
from pathlib import Path

from lab.testing import BASE_DIR


def docker_pattern(pattern):
    """A regular expression for one .dockerignore pattern (Docker's fileutils.PatternMatcher)."""
    pattern = pattern.strip().strip("/")
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out = out[:-2] + "(.*/)?"
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        i += 1
    return re.compile(f"^{out}(/.*)?$")


def ignored(path):
    verdict = False
    for line in (BASE_DIR / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if docker_pattern(line.lstrip("!")).match(path):
            verdict = not negate
    return verdict


def test_the_image_never_gets_secrets_or_the_learners_backups():
    for path in (".env", ".env.local", ".env.postgres", "exercises/backups/ex04_on_commit/views-20261128-1.py"):
        assert ignored(path), f"{path} would be copied into the image"
    for path in ("exercises/ex04_on_commit/views.py", "bin/run", "data/.gitkeep", "manage.py"):
        assert not ignored(path), f"{path} is needed in the image but ignored"


def test_ci_does_not_stop_a_redis_it_did_not_start(tmp_path):
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    calls = tmp_path / "calls"
    for name in ("make", "apt-get", "service", "bash"):
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n')
        stub.chmod(0o755)
    redis = stubs / "redis-server"  # installed already (on this machine or not)
    redis.write_text("#!/bin/sh\nexit 0\n")
    redis.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["/bin/bash", str(BASE_DIR / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    made = Path(calls).read_text().splitlines()
    assert "make lint" in made, made  # it really ran through
    assert not [call for call in made if call.startswith("service")], f".ci/run stopped a service: {made}"
