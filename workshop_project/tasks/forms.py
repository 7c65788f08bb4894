"""The home page's form: what to measure, and how to misbehave on purpose."""

from django import forms
from django.conf import settings
from django.core.validators import URLValidator

from .models import Task


def default_url():
    """A sample page this app serves itself, so nothing needs the internet."""
    return f"{settings.WORKSHOP_WEB_URL.rstrip('/')}/samples/1234/"


class TaskForm(forms.Form):
    url = forms.CharField(
        label="URL to measure",
        max_length=Task._meta.get_field("url").max_length,
        validators=[URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")],
        initial=default_url,
        error_messages={"max_length": "The URL is too long: at most %(limit_value)d characters fit in a task."},
    )
    hold_ms = forms.IntegerField(
        label="Hold the transaction open for (ms)",
        min_value=0,
        # The lessons use up to 1 s (the article's time.sleep(1)). On SQLite the write
        # lock is held that long, and every other writer waits behind it.
        max_value=2_000,
        required=False,
        initial=0,
        help_text=(
            "How long the view keeps working after it enqueues the job: the article's time.sleep(1). At most 2 s."
        ),
    )
    fail = forms.BooleanField(
        label="Fail the request after enqueueing",
        required=False,
        help_text="Raise an error late in the request, to see what a variant leaves behind.",
    )
