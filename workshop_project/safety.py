"""What the workshop does so its defaults are safe: error pages that show no
credentials, a plain answer when SQLite is too busy to take a write, and a
request body bigger than any form needs refused before it is read.

Settings point here: ``DEFAULT_EXCEPTION_REPORTER_FILTER`` and ``MIDDLEWARE``.
"""

import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse
from django.utils.html import escape
from django.views import debug
from django.views.debug import SafeExceptionReporterFilter

#: ``scheme://user:password@`` in any string: the password part.
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?=@)", re.IGNORECASE)
#: ``password=...`` in a libpq connection string (psycopg's ``conninfo``), quoted or not.
CONNINFO_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<password>'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)
#: Below this length a password is not searched for as plain text (it would blank out ordinary words).
SHORTEST_LITERAL = 4


def hide_url_passwords(text):
    """``postgres://workshop:s3cret@db/x`` -> ``postgres://workshop:********************@db/x``;
    ``host=db password=s3cret`` -> ``host=db password=********************``."""
    substitute = SafeExceptionReporterFilter.cleansed_substitute
    text = URL_PASSWORD.sub(lambda match: match["head"] + substitute, text)
    return CONNINFO_PASSWORD.sub(lambda match: match["head"] + substitute, text)


def known_passwords():
    """The passwords this process was configured with: the databases' and the Redis URLs'."""
    found = {database.get("PASSWORD") or "" for database in settings.DATABASES.values()}
    urls = [settings.REDIS_URL, *(queue.get("URL", "") for queue in settings.RQ_QUEUES.values())]
    found.update(urlsplit(url).password or "" for url in urls)
    found.update(unquote(password) for password in list(found))
    return sorted((password for password in found if len(password) >= SHORTEST_LITERAL), key=len, reverse=True)


class ReporterFilter(SafeExceptionReporterFilter):
    """Django's filter (it hides settings and variables whose *name* looks secret), also
    hiding passwords inside URL-shaped or ``password=`` *values*, and inside the traceback's
    dicts (psycopg's ``conn_params``, Django's ``settings_dict``): DEBUG's error page lists
    every environment variable (runserver's os.environ is request.META), DATABASE_URL and
    REDIS_URL among them, and with PostgreSQL down every frame of the failed connection."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        return hide_url_passwords(value) if isinstance(value, str) else value

    def cleanse_value(self, value, depth=0):
        """``value`` with passwords hidden in its strings, and in its dicts' values under secret-looking keys."""
        if isinstance(value, str):
            return hide_url_passwords(value)
        if depth > 3:
            return value
        if isinstance(value, dict):
            return {key: self.cleanse_setting(key, self.cleanse_value(item, depth + 1)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.cleanse_value(item, depth + 1) for item in value)
        return value

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleanse_value(value)) for name, value in variables]


class ExceptionReporter(debug.ExceptionReporter):
    """Django's error page, with the exception's message cleansed like the variables, and, last,
    every password this process knows blanked out wherever it still shows (an object's repr,
    a message the patterns above do not know)."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if "exception_value" in data:
            data["exception_value"] = hide_url_passwords(str(data["exception_value"]))
        return data

    def get_traceback_html(self):
        return hide_literals(super().get_traceback_html(), html=True)

    def get_traceback_text(self):
        return hide_literals(super().get_traceback_text())


def hide_literals(text, html=False):
    for password in known_passwords():
        text = text.replace(password, SafeExceptionReporterFilter.cleansed_substitute)
        if html:
            text = text.replace(escape(password), SafeExceptionReporterFilter.cleansed_substitute)
    return text


SQLITE_BUSY = (
    "The database is busy: SQLite lets one request write at a time, and this one waited "
    "longer than its {timeout:g} s timeout behind the others. Send fewer requests at once or "
    "a shorter hold, or use PostgreSQL (README: Using PostgreSQL)."
)


class DatabaseBusyMiddleware:
    """SQLite's "database is locked" (a writer waited past the timeout) becomes a 503 with
    one sentence, not a 500 traceback. The request's transaction was rolled back: nothing
    of it was kept, so nothing is left pending."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError) and "database is locked" in str(exception):
            from django.db import connection

            timeout = connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)
            return HttpResponse(SQLITE_BUSY.format(timeout=timeout), status=503, content_type="text/plain")
        return None


BODY_TOO_BIG = (
    "The request's body is {length:,} bytes; this app's forms need at most {limit:,} "
    "(a URL and a few fields), so it was refused before it was read."
)


class BodySizeMiddleware:
    """A body over ``WORKSHOP_MAX_REQUEST_BYTES`` is a 413 with one sentence, before anything parses it.

    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bounds the form fields only: a 50 MB file upload used to be
    parsed into a temporary file and ignored. First in ``MIDDLEWARE``, so nothing reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django treats a malformed length as no body
        limit = settings.WORKSHOP_MAX_REQUEST_BYTES
        if length > limit:
            return HttpResponse(BODY_TOO_BIG.format(length=length, limit=limit), status=413, content_type="text/plain")
        return self.get_response(request)
