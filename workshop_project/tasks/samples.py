"""Sample pages of known size, so the job has something to fetch offline."""

from django.db import transaction
from django.http import HttpResponse

MAX_SAMPLE_BYTES = 5_000_000  # above the fetch cap, so the cap can be shown


@transaction.non_atomic_requests  # a static page needs no database transaction
def sample(request, size):
    """A plain-text page of exactly ``size`` bytes."""
    if size > MAX_SAMPLE_BYTES:
        return HttpResponse(f"At most {MAX_SAMPLE_BYTES} bytes.\n", status=404, content_type="text/plain")
    line = b"commit, then enqueue\n"
    body = (line * (size // len(line) + 1))[:size]
    return HttpResponse(body, content_type="text/plain")
