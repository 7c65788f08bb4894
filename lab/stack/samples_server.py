"""Serve this project's sample pages from inside the current process.

Under the amplifier nothing else need be running: the job fetches its sample
page from this server, which runs the same Django app on a free port.
"""

import threading
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.wsgi import get_wsgi_application

from workshop_project.tasks import fetch


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving(app=None):
    """Yield the base URL (``http://127.0.0.1:PORT``) of the app (or of ``app``, a WSGI
    wrapper around it such as the grader's fetch counter), served on a thread."""
    server = make_server("127.0.0.1", 0, app or get_wsgi_application(), _ThreadingServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="samples-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with fetch.allowed(f"{url}/"):  # the jobs of this process may fetch from it (loopback)
            yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
