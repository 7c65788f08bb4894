"""The fetch connects to the address it checked, and to nothing the checks did not see.

Real servers on loopback stand in for what a learner's URL could reach (JupyterLab's
API, a private service); a real rq worker (SimpleWorker, in this process) runs the
real job. The DNS answers come from a resolver this test controls: ``socket.getaddrinfo``
is patched for a few made-up names (``*.test``), every other lookup goes to the real one.
A "public" server is played by 127.0.0.2: the test counts that one address as public,
so nothing leaves the machine.
"""

import contextlib
import itertools
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from lab.stack.samples_server import serving
from tests.test_fetch_limits import run_job
from workshop_project.tasks import fetch, pinning

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "second"])

PUBLIC_STAND_IN = "127.0.0.2"
A_REAL_PUBLIC_ADDRESS = "93.184.215.14"  # never connected to: the URLs below must be refused first


@contextlib.contextmanager
def http_server(body, host="127.0.0.1", port=0, status="200 OK", headers="", tls=None):
    """A loopback HTTP server (HTTPS with the ``tls`` context) answering every request with ``body``;
    yields (port, visits)."""
    listener = socket.create_server((host, port))
    listener.settimeout(0.2)
    stop, visits = threading.Event(), []

    def answer(connection):
        with contextlib.suppress(OSError):
            connection = tls.wrap_socket(connection, server_side=True) if tls else connection
        with connection, contextlib.suppress(OSError):
            visits.append(connection.recv(65536).split(b"\r\n\r\n")[0].decode())
            payload = body.encode()
            connection.sendall(
                f"HTTP/1.1 {status}\r\nContent-Length: {len(payload)}\r\n{headers}Connection: close\r\n\r\n".encode()
                + payload
            )

    def serve():
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], visits
    finally:
        stop.set()
        thread.join()
        listener.close()


@contextlib.contextmanager
def public_and_private(public_body="public page", private_body="secret"):
    """Two servers on one port: the "public" one on 127.0.0.2, the private one on 127.0.0.1."""
    for _ in range(20):  # the port free on 127.0.0.1 may be taken on 127.0.0.2: try another
        with http_server(private_body) as (port, private_visits):
            try:
                public = http_server(public_body, host=PUBLIC_STAND_IN, port=port)
                public_port, public_visits = public.__enter__()
            except OSError:
                continue
            try:
                yield port, public_visits, private_visits
            finally:
                public.__exit__(None, None, None)
            return
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


@pytest.fixture
def resolver(monkeypatch):
    """``resolver({"name.test": iterator of answers})``: each lookup of a name takes its next answer
    (an address, or a list of them)."""
    real = socket.getaddrinfo
    lookups = []

    def install(answers):
        def getaddrinfo(host, port, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if name in answers:
                lookups.append(name)
                answer = next(answers[name])
                addresses = [answer] if isinstance(answer, str) else answer
                return [info for address in addresses for info in real(address, port, *args, **kwargs)]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return lookups

    return install


@pytest.fixture
def stand_in_is_public(monkeypatch):
    real = fetch.is_public
    monkeypatch.setattr(fetch, "is_public", lambda address: address == PUBLIC_STAND_IN or real(address))


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible
        "::10.0.0.1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT)
        "64:ff9b::7f00:1",  # NAT64, well-known prefix
        "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254
        "64:ff9b:1::7f00:1",  # NAT64, local-use prefix
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2002:a00:1::1",  # 6to4 around 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "::",
        "::1",
        "fe80::1%lo",
    ],
)
def test_ipv6_forms_that_carry_a_private_address_are_not_public(address):
    assert not fetch.is_public(address), f"{address} counts as public"


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_stay_public(address):
    assert fetch.is_public(address)


def test_a_rebinding_name_is_fetched_from_the_address_that_was_checked(resolver, stand_in_is_public):
    """The name answers the public address once, then loopback for ever: the check and a second
    lookup by the HTTP client would see different servers. The one lookup's address is the one used."""
    with public_and_private() as (port, public_visits, private_visits):
        lookups = resolver({"rebind.test": itertools.chain([PUBLIC_STAND_IN], itertools.repeat("127.0.0.1"))})
        task = run_job(f"http://rebind.test:{port}/page")
    assert private_visits == [], "the fetch reached loopback after checking a public address"
    assert (task.result, task.url_length) == ("OK", len("public page")), task.result
    assert lookups == ["rebind.test"], f"the name was looked up {len(lookups)} times, not once"
    assert f"Host: rebind.test:{port}" in public_visits[0], "the request must still name its host"


def test_every_redirect_hop_is_checked_and_pinned(resolver, stand_in_is_public, settings):
    with public_and_private() as (port, public_visits, private_visits):
        location = f"Location: http://rebind.test:{port}/after-redirect\r\n"
        with http_server("", status="302 Found", headers=location) as (redirector, _):
            settings.FETCH_ALLOWED_URLS = [f"http://127.0.0.1:{redirector}/"]  # as if it were a public page
            resolver({"rebind.test": itertools.chain([PUBLIC_STAND_IN], itertools.repeat("127.0.0.1"))})
            task = run_job(f"http://127.0.0.1:{redirector}/")
    assert private_visits == [], "the redirect's target reached loopback after its check"
    assert (task.result, task.url_length) == ("OK", len("public page")), task.result


@pytest.mark.parametrize("behind_a_redirect", [False, True], ids=["direct", "redirect"])
def test_a_backslash_url_never_reaches_the_service_it_hides(resolver, settings, behind_a_redirect):
    """``http://127.0.0.1:8888\\@public.test/../api/contents``: urlsplit reads the host after the
    ``@`` (public), requests and urllib3 end the host at the backslash (JupyterLab)."""
    resolver({"public.test": itertools.repeat(A_REAL_PUBLIC_ADDRESS)})
    with http_server('{"content": "the notebooks"}') as (jupyter, visits):
        url = f"http://127.0.0.1:{jupyter}\\@public.test/../api/contents"
        if behind_a_redirect:
            with http_server("", status="302 Found", headers=f"Location: {url}\r\n") as (redirector, _):
                settings.FETCH_ALLOWED_URLS = [f"http://127.0.0.1:{redirector}/"]
                task = run_job(f"http://127.0.0.1:{redirector}/")
        else:
            task = run_job(url)
    assert visits == [], f"the stand-in for JupyterLab was reached: {visits[:1]}"
    assert task.result == f"error: {fetch.UNCLEAR}"


def test_the_sample_page_allowance_does_not_reach_the_rest_of_the_app():
    with serving() as base:
        allowed_only_for_samples = f"{base}/samples/"
        with fetch.allowed(allowed_only_for_samples):
            fetch._local_prefixes.discard(f"{base}/")  # only /samples/, as the live app's own allowance
            escaped = run_job(f"{base}/samples/../admin/login/")
            encoded = run_job(f"{base}/samples/%2e%2e/admin/login/")
            fine = run_job(f"{base}/samples/1234/")
    assert escaped.result == f"error: {fetch.REFUSED}", f"/samples/../admin/login/ gave {escaped.result!r}"
    assert encoded.status == "error", f"/samples/%2e%2e/admin/login/ gave {encoded.result!r}"
    assert (fine.result, fine.url_length) == ("OK", 1234)


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make a certificate")
def test_over_tls_the_pinned_connection_keeps_the_name_for_sni_and_the_certificate(tmp_path, resolver):
    """A TLS server on the checked address with a certificate for the name only: the handshake
    must send the name (SNI) and verify the certificate against it, though the socket goes to an IP."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pinned.test",
         "-addext", "subjectAltName=DNS:pinned.test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names = []
    context.sni_callback = lambda sock, name, _: names.append(name)
    lookups = resolver({"pinned.test": itertools.repeat("127.0.0.1")})
    with (
        http_server("over tls", host=PUBLIC_STAND_IN, tls=context) as (port, visits),
        pinning.session([PUBLIC_STAND_IN], pinning.Connections()) as session,
    ):
        response = session.get(f"https://pinned.test:{port}/", verify=str(cert), timeout=10)
    assert (response.status_code, response.text) == (200, "over tls")
    assert names == ["pinned.test"], f"SNI sent: {names}"
    assert f"Host: pinned.test:{port}" in visits[0]
    assert lookups == [], "the pinned session looked the name up itself"


def test_a_name_with_several_checked_addresses_is_reached_on_the_one_that_answers(resolver, settings):
    """``localhost`` often answers ::1 first; a server of the learner's on 127.0.0.1 only must still
    be reached, as a resolving client would (it tries each answer in turn): every answer is one the
    check saw, and the name is not looked up again."""
    with http_server("second address", host=PUBLIC_STAND_IN) as (port, visits):
        settings.FETCH_ALLOWED_URLS = [f"http://two.test:{port}/"]
        lookups = resolver({"two.test": itertools.repeat(["127.0.0.3", PUBLIC_STAND_IN])})  # nothing on .3
        task = run_job(f"http://two.test:{port}/")
    assert (task.result, task.url_length) == ("OK", len("second address")), task.result
    assert lookups == ["two.test"]
    assert len(visits) == 1
