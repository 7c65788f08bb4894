"""Fetching a page with limits, so a learner's URL can never hang or flood the worker."""

from urllib.parse import urlsplit

import requests
from django.conf import settings

CHUNK = 64 * 1024


class FetchError(Exception):
    """A page could not be measured; the message is shown on the task."""


def fetch_length(url):
    """Return the size in bytes of the body at ``url``.

    http and https only, a timeout on connecting and on each read, and a cap
    on the body (streamed, so a huge page is never held in memory).
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError("only http:// and https:// URLs can be fetched")
    limit = settings.FETCH_MAX_BYTES
    try:
        with requests.get(url, stream=True, timeout=settings.FETCH_TIMEOUT_SECONDS) as response:
            response.raise_for_status()
            size = 0
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"the page is larger than the {limit:,}-byte limit")
            return size
    except requests.RequestException as error:
        raise FetchError(describe(error)) from error


def describe(error):
    """One short sentence for a failed request, short enough for Task.result."""
    if isinstance(error, requests.HTTPError):
        return f"the server answered {error.response.status_code}"
    if isinstance(error, requests.Timeout):
        return "the server did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "the server could not be reached"
    return f"the request failed ({type(error).__name__})"
