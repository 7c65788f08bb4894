"""JupyterLab, run exactly as the jupyter container runs it, is closed to DNS rebinding.

The container binds 0.0.0.0 with no token; jupyter_server then skips its Host
check unless told otherwise, and a web page whose name is rebound to
127.0.0.1 can start a kernel. Binding 0.0.0.0 here would expose a token-less
server to the network for the test's duration, so the server runs in
namespaces of its own (``unshare``: a network with loopback only, nothing
else can reach it), with the jupyter service's environment from
docker-compose.yml and ``bin/run jupyter``; ``tests/jupyter_probe.py`` makes
the hostile requests from inside the same namespace.
"""

import subprocess

import yaml

from lab.testing import BASE_DIR, django_env

SCRIPT = r"""
set -u
ip link set lo up
bin/run jupyter >"$LOG" 2>&1 &
server=$!
python -c '
import time, urllib.request
deadline = time.monotonic() + 90
while True:
    try:
        urllib.request.urlopen("http://127.0.0.1:8888/api", timeout=2)
        break
    except Exception:
        if time.monotonic() > deadline:
            raise SystemExit("JupyterLab did not answer /api within 90 s")
        time.sleep(0.2)
' || { tail -20 "$LOG"; exit 3; }
python tests/jupyter_probe.py http://127.0.0.1:8888
status=$?
kill -TERM "$server"
wait "$server"
exit $status
"""


def jupyter_service_environment():
    with open(BASE_DIR / "docker-compose.yml") as file:
        compose = yaml.safe_load(file)
    environment = compose["services"]["jupyter"]["environment"]
    return {key: str(value) for key, value in environment.items() if not str(value).startswith("$")}


def test_the_jupyter_service_refuses_dns_rebinding_and_cross_origin_kernels(tmp_path):
    service = jupyter_service_environment()
    assert service["JUPYTER_BIND"] == "0.0.0.0:8888", "the test runs the service's own bind address"
    env = django_env(
        JUPYTER_BIND=service["JUPYTER_BIND"],
        LOG=tmp_path / "jupyter.log",
        HOME=tmp_path,  # Jupyter's runtime files and settings go here, not to the user's
        JUPYTER_RUNTIME_DIR=tmp_path / "runtime",
    )
    # User, network, PID and mount namespaces: loopback only, and every
    # process started inside (kernels too) ends with it.
    namespace = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc"]
    result = subprocess.run(
        [*namespace, "bash", "-c", SCRIPT], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    report = result.stdout + result.stderr
    assert result.returncode != 3, f"JupyterLab did not start:\n{report}"
    assert "✘" not in report, f"JupyterLab answered a hostile page:\n{report}"
    assert result.returncode == 0, report
