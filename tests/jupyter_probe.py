"""Is a JupyterLab server closed to DNS rebinding? ``python tests/jupyter_probe.py URL``

A page on evil.example whose name is rebound to 127.0.0.1 reaches the server
with ``Host: evil.example``; it can read the ``_xsrf`` cookie the server
hands out and start a kernel (run code) unless the server checks the Host.
A plain cross-origin page arrives with ``Origin: http://evil.example``.
Standard library only: tests/containers/run.sh runs this inside the jupyter
container, and tests/test_jupyter_security.py against ``bin/run jupyter``.
"""

import http.cookiejar
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def request(opener, method, url, headers):
    data = b"{}" if method == "POST" else None
    try:
        with opener.open(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=20) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def start_kernel_as(base, host, origin):
    """GET /lab (as a browser would: it sets the _xsrf cookie), then POST /api/kernels with it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request(opener, "GET", f"{base}/lab", {"Host": host})
    xsrf = next((cookie.value for cookie in jar if cookie.name == "_xsrf"), "")
    headers = {"Host": host, "Origin": origin, "X-XSRFToken": xsrf, "Content-Type": "application/json"}
    return request(opener, "POST", f"{base}/api/kernels", headers)


def checks(base):
    """(what, status got, statuses that pass) for each request a hostile page could make."""
    port = urlsplit(base).port
    evil = f"evil.example:{port}"
    return [
        ("GET /api/kernels with Host: 127.0.0.1 (the learner)", request_plain(base, f"127.0.0.1:{port}"), {200}),
        ("GET /api/kernels with Host: evil.example (DNS rebinding)", request_plain(base, evil), {403}),
        ("POST /api/kernels with Host and Origin evil.example", start_kernel_as(base, evil, f"http://{evil}"), {403}),
        (
            "POST /api/kernels from Origin http://evil.example (cross-origin)",
            start_kernel_as(base, f"127.0.0.1:{port}", "http://evil.example"),
            {403, 404},
        ),
    ]


def request_plain(base, host):
    return request(urllib.request.build_opener(), "GET", f"{base}/api/kernels", {"Host": host})


def main(base):
    failed = False
    for what, got, passing in checks(base.rstrip("/")):
        failed |= got not in passing
        print(f"{'✔' if got in passing else '✘'} {what}: {got} (want {' or '.join(map(str, sorted(passing)))})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
