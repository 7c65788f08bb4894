"""The fetch's transport: a requests session that connects only to the addresses the checks approved.

Checking a name and then letting the HTTP client look it up again is two DNS
answers: a name that answers a public address to the check and 127.0.0.1 to
the client (DNS rebinding) reached loopback 40 times in 300. Here the client
never resolves anything: every connection of the session goes to one of ``addresses``
(the checked answers, tried in their order as a resolving client would),
while the URL keeps its name, so the Host header, TLS's SNI and the
certificate check are the name's, as without the pin.

The session also keeps every connection it opened in a ``Connections``, so the
fetch's deadline can cut them (``Connections.cut``) while another thread is
blocked reading one.
"""

import contextlib
import socket
import threading

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection


class Connections:
    """The sockets a fetch opened, so the thread that keeps its deadline can cut them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._opened = []  # (urllib3 connection, its plain socket)
        self.cut_off = False

    def opened(self, connection, sock):
        with self._lock:
            self._opened.append((connection, sock))
            if self.cut_off:  # opened after the deadline: cut at once
                _shut(sock)

    def cut(self):
        """Shut every socket down, both ways: a read blocked on one returns at once (end of file).

        ``shutdown``, not ``close``: closing a socket another thread reads from is unsafe, and
        ``response.close()`` waited for the lock of the very read it was meant to end (the
        report's 59 s). Over TLS the connection's ``sock`` is the wrapped socket, on the same
        file descriptor; the plain one is shut too, in case the handshake is what is slow."""
        with self._lock:
            self.cut_off = True
            for connection, sock in self._opened:
                _shut(getattr(connection, "sock", None))
                _shut(sock)


def _shut(sock):
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain method, also on an SSLSocket


def _pinned(connection_class, addresses, connections):
    class PinnedConnection(connection_class):
        """urllib3's connection, with the socket connected to a checked address rather than to the host's lookup."""

        def _new_conn(self):
            for address in addresses:  # as urllib3 tries each answer of a lookup, in order
                try:
                    sock = urllib3_connection.create_connection(
                        (address, self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except TimeoutError as error:
                    message = f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                    failure = ConnectTimeoutError(self, message)
                    failure.__cause__ = error
                except OSError as error:
                    failure = NewConnectionError(self, f"Failed to establish a new connection: {error}")
                    failure.__cause__ = error
                else:
                    connections.opened(self, sock)
                    return sock
            raise failure

    return PinnedConnection


class PinnedAdapter(HTTPAdapter):
    """requests' adapter whose connection pools connect to ``addresses`` whatever the URL's host."""

    def __init__(self, addresses, connections):
        self.addresses, self.connections = list(addresses), connections
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "PinnedHTTPPool",
                (HTTPConnectionPool,),
                {"ConnectionCls": _pinned(HTTPConnection, self.addresses, self.connections)},
            ),
            "https": type(
                "PinnedHTTPSPool",
                (HTTPSConnectionPool,),
                {"ConnectionCls": _pinned(HTTPSConnection, self.addresses, self.connections)},
            ),
        }


def session(addresses, connections):
    """A session whose every request connects to one of ``addresses``. It reads nothing from the environment:
    an ``HTTP_PROXY`` would have the proxy look the name up again, past the check."""
    pinned = requests.Session()
    pinned.trust_env = False
    adapter = PinnedAdapter(addresses, connections)
    pinned.mount("http://", adapter)
    pinned.mount("https://", adapter)
    return pinned
