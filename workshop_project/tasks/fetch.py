"""Fetching a page with limits, so a learner's URL can never hang or flood the worker,
nor reach into the machine it runs on.

Three limits:

- time: a timeout on connecting and on each read, and a deadline for the
  whole fetch (a server that trickles a byte every few seconds never trips a
  per-read timeout, and would otherwise hold the worker until rq's job
  timeout, with nothing recorded on the task);
- size: the body is streamed and capped;
- where: only public addresses, plus this app's own sample pages. Loopback
  and private addresses (JupyterLab's API, the admin, Redis, the rest of the
  compose network) are refused before any connection is made, with one and the
  same sentence whatever is listening there, so the error is no port scanner.
  Redirects are followed one at a time and checked the same way.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

CHUNK = 64 * 1024
MAX_REDIRECTS = 5
REFUSED = "only public addresses and this app's sample pages can be fetched"

#: URL prefixes this process serves itself (lab.samples_server registers its own while it runs).
_local_prefixes = set()


class FetchError(Exception):
    """A page could not be measured; the message is shown on the task."""


@contextlib.contextmanager
def allowed(prefix):
    """Allow URLs under ``prefix`` (a server this process runs, on loopback) while the block runs."""
    _local_prefixes.add(prefix)
    try:
        yield
    finally:
        _local_prefixes.discard(prefix)


def allowed_prefixes():
    """This app's sample pages, the settings' extra prefixes, and the servers this process runs."""
    own = f"{settings.WORKSHOP_WEB_URL.rstrip('/')}/samples/"
    return [own, *settings.FETCH_ALLOWED_URLS, *_local_prefixes]


def _same_place(url, prefix):
    got, want = urlsplit(url), urlsplit(prefix)
    return (got.scheme, got.hostname, got.port) == (want.scheme, want.hostname, want.port) and got.path.startswith(
        want.path or "/"
    )


def is_public(address):
    ip = ipaddress.ip_address(address.split("%")[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_destination(url):
    """Raise FetchError unless ``url`` is a sample page of this app or resolves to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError("only http:// and https:// URLs can be fetched")
    if any(_same_place(url, prefix) for prefix in allowed_prefixes()):
        return
    if settings.FETCH_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise FetchError("the server could not be reached") from None
    if not infos or not all(is_public(info[4][0]) for info in infos):
        raise FetchError(REFUSED)


def fetch_length(url):
    """Return the size in bytes of the body at ``url``, within the fetch limits."""
    limit, timeout = settings.FETCH_MAX_BYTES, settings.FETCH_TIMEOUT_SECONDS
    deadline = settings.FETCH_DEADLINE_SECONDS
    outcome = {}
    session = requests.Session()

    def fetch():
        try:
            outcome["size"] = _fetch(session, url, limit, timeout, time.monotonic() + deadline, outcome)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    # The fetch runs on a thread so the deadline holds even while a read is
    # blocked (a header line trickling in): at the deadline the response is
    # closed, which ends that read, and the thread is left to finish.
    thread = threading.Thread(target=fetch, name="fetch", daemon=True)
    thread.start()
    thread.join(deadline)
    if thread.is_alive():
        outcome["late"] = True
        with contextlib.suppress(Exception):
            if "response" in outcome:
                outcome["response"].close()
            session.close()
        raise FetchError(f"the page did not arrive within the {deadline:g} s limit")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, requests.RequestException):
            raise FetchError(describe(error)) from error
        raise error
    return outcome["size"]


def _fetch(session, url, limit, timeout, deadline, outcome):
    for _ in range(MAX_REDIRECTS + 1):
        check_destination(url)
        response = session.get(url, stream=True, timeout=timeout, allow_redirects=False)
        outcome["response"] = response
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            response.close()
            continue
        with response:
            response.raise_for_status()
            size = 0
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"the page is larger than the {limit:,}-byte limit")
                if time.monotonic() > deadline or outcome.get("late"):
                    raise FetchError("the page did not arrive in time")
            return size
    raise FetchError("the request failed (too many redirects)")


def describe(error):
    """One short sentence for a failed request, short enough for Task.result."""
    if isinstance(error, requests.HTTPError):
        return f"the server answered {error.response.status_code}"
    if isinstance(error, requests.Timeout):
        return "the server did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "the server could not be reached"
    return f"the request failed ({type(error).__name__})"
