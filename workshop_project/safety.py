"""Two things the workshop does so its defaults are safe: error pages that show no
credentials, and a plain answer when SQLite is too busy to take a write.

Settings point here: ``DEFAULT_EXCEPTION_REPORTER_FILTER`` and ``MIDDLEWARE``.
"""

import re

from django.db import OperationalError
from django.http import HttpResponse
from django.views.debug import SafeExceptionReporterFilter

#: ``scheme://user:password@`` in any string: the password part.
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?=@)", re.IGNORECASE)


def hide_url_passwords(text):
    """``postgres://workshop:s3cret@db/x`` -> ``postgres://workshop:********************@db/x``."""
    return URL_PASSWORD.sub(lambda match: match["head"] + SafeExceptionReporterFilter.cleansed_substitute, text)


class ReporterFilter(SafeExceptionReporterFilter):
    """Django's filter (it hides settings and variables whose *name* looks secret), also
    hiding passwords inside URL-shaped *values*: DEBUG's error page lists every environment
    variable (runserver's os.environ is request.META), DATABASE_URL and REDIS_URL among them."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        return hide_url_passwords(value) if isinstance(value, str) else value

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, hide_url_passwords(value) if isinstance(value, str) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


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
