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
  The URL is read as the HTTP client reads it (a URL two parsers read
  differently is refused), its name is looked up once, every address it
  answers is checked, and the connection goes to the checked address
  (``pinning``). Redirects are followed one at a time and checked the same way.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from urllib.parse import unquote, urljoin, urlsplit

import requests
from django.conf import settings
from urllib3.util import parse_url

from . import pinning

CHUNK = 64 * 1024
MAX_REDIRECTS = 5
CUT_GRACE_SECONDS = 1
REFUSED = "only public addresses and this app's sample pages can be fetched"
UNCLEAR = "the URL can be read two ways (a backslash, a space or a control character in it): write it plainly"
DEFAULT_PORTS = {"http": 80, "https": 443}
#: IPv6 ranges that carry an IPv4 address to another network, or nowhere public: IPv4-compatible
#: (::a.b.c.d, deprecated), IPv4-translated (SIIT), NAT64's well-known and local-use prefixes.
#: Python counts the first three as global. (6to4 and Teredo it already counts as not global.)
NOT_PUBLIC_V6 = [
    ipaddress.ip_network(network) for network in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
]

#: URL prefixes this process serves itself (lab.stack.samples_server registers its own while it runs).
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


def read_url(url):
    """``(url, scheme, host, port)`` as the HTTP client will send it: requests prepares the URL
    (urllib3's parser; it ends the host at a backslash, where ``urlsplit`` reads on to an ``@``,
    and it removes ``..`` segments), and both parsers must then agree on the place."""
    if urlsplit(url).scheme.lower() not in DEFAULT_PORTS:
        raise FetchError("only http:// and https:// URLs can be fetched")
    if any(char == "\\" or ord(char) < 33 or ord(char) == 127 for char in url):
        raise FetchError(UNCLEAR)
    try:
        prepared = requests.Request("GET", url).prepare().url
        client, other = parse_url(prepared), urlsplit(prepared)
        places = {
            (client.scheme, (client.host or "").strip("[]").lower(), client.port or DEFAULT_PORTS.get(client.scheme)),
            (other.scheme, (other.hostname or "").lower(), other.port or DEFAULT_PORTS.get(other.scheme)),
        }
    except (requests.RequestException, ValueError, UnicodeError):
        raise FetchError("the URL is not valid") from None
    if len(places) != 1:
        raise FetchError(UNCLEAR)
    [(scheme, host, port)] = places
    if scheme not in DEFAULT_PORTS or not host:
        raise FetchError("only http:// and https:// URLs can be fetched")
    return prepared, scheme, host, port


def _same_place(url, prefix):
    """``url`` (as read_url reads it) lies under ``prefix``: same scheme, host and port, and a path
    below the prefix's with no ``.`` or ``..`` segment, even percent-encoded."""
    got, want = parse_url(url), parse_url(prefix)
    place = (got.scheme, got.host, got.port or DEFAULT_PORTS.get(got.scheme or ""))
    if place != (want.scheme, want.host, want.port or DEFAULT_PORTS.get(want.scheme or "")):
        return False
    path = got.path or "/"
    segments = unquote(path).replace("\\", "/").split("/")
    return path.startswith(want.path or "/") and not {".", ".."} & set(segments)


def is_public(address):
    """A globally reachable unicast address, also when it is an IPv4 one inside IPv6."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6:
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif any(ip in network for network in NOT_PUBLIC_V6):
            return False
        elif ip.sixtofour and not is_public(str(ip.sixtofour)):
            return False
        elif ip.teredo and not all(is_public(str(part)) for part in ip.teredo):
            return False
    return ip.is_global and not ip.is_multicast


def check_destination(url):
    """Look ``url``'s host up once and return ``(url as the client sends it, the addresses to connect to)``.

    Raise FetchError unless it is a sample page of this app (or an allowed
    prefix) or every address the name answers is public."""
    prepared, scheme, host, port = read_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError("the server could not be reached") from None
    addresses = [info[4][0] for info in infos]
    anywhere = settings.FETCH_ALLOW_PRIVATE_ADDRESSES or any(_same_place(prepared, p) for p in allowed_prefixes())
    if not addresses or not (anywhere or all(is_public(address) for address in addresses)):
        raise FetchError(REFUSED)
    return prepared, list(dict.fromkeys(addresses))


def fetch_length(url):
    """Return the size in bytes of the body at ``url``, within the fetch limits."""
    limit, timeout = settings.FETCH_MAX_BYTES, settings.FETCH_TIMEOUT_SECONDS
    deadline = settings.FETCH_DEADLINE_SECONDS
    outcome = {}
    connections = pinning.Connections()

    def fetch():
        try:
            outcome["size"] = _fetch(url, limit, timeout, time.monotonic() + deadline, outcome, connections)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    # The fetch runs on a thread so the deadline holds even while a read is
    # blocked (a header line, or a body, trickling in): at the deadline every
    # socket it opened is shut down, which ends that read at once, and the job
    # goes on (the thread ends with its read). Closing the response instead
    # waited for the lock its blocked read held: the body's whole length.
    thread = threading.Thread(target=fetch, name="fetch", daemon=True)
    thread.start()
    thread.join(deadline)
    if thread.is_alive():
        outcome["late"] = True
        connections.cut()
        thread.join(CUT_GRACE_SECONDS)  # a cut read ends at once; a DNS lookup is left to finish alone
        raise FetchError(f"the page did not arrive within the {deadline:g} s limit")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, requests.RequestException):
            raise FetchError(describe(error)) from error
        raise error
    return outcome["size"]


def _fetch(url, limit, timeout, deadline, outcome, connections):
    for _ in range(MAX_REDIRECTS + 1):
        url, addresses = check_destination(url)  # every hop: looked up once, checked, pinned
        with pinning.session(addresses, connections) as session:
            response = session.get(url, stream=True, timeout=timeout, allow_redirects=False)
            outcome["response"] = response
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    continue
                return _measure(response, limit, deadline, outcome)
    raise FetchError("the request failed (too many redirects)")


def _measure(response, limit, deadline, outcome):
    response.raise_for_status()
    size = 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"the page is larger than the {limit:,}-byte limit")
        if time.monotonic() > deadline or outcome.get("late"):
            raise FetchError("the page did not arrive in time")
    return size


def describe(error):
    """One short sentence for a failed request, short enough for Task.result."""
    if isinstance(error, requests.HTTPError):
        return f"the server answered {error.response.status_code}"
    if isinstance(error, requests.Timeout):
        return "the server did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "the server could not be reached"
    return f"the request failed ({type(error).__name__})"
