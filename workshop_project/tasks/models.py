"""The one model of the article's app."""

from django.db import models


class Task(models.Model):
    """A URL to measure. The view creates it; the worker fills in the rest.

    The fields are the 2019 article's, so its code reads the same here.
    """

    created_on = models.DateTimeField(auto_now_add=True)
    url = models.CharField(max_length=128)
    url_length = models.PositiveIntegerField(blank=True, null=True)
    # The article's fields, kept as it wrote them: NULL means "not yet" (DJ001 would prefer "").
    job_id = models.CharField(max_length=128, blank=True, null=True)  # noqa: DJ001
    result = models.CharField(max_length=128, blank=True, null=True)  # noqa: DJ001

    class Meta:
        ordering = ["-created_on", "-id"]

    def __str__(self):
        return f"Task {self.pk}: {self.url} ({self.status})"

    @property
    def status(self):
        """pending until the worker writes a result; then OK or error."""
        if not self.result:
            return "pending"
        return "OK" if self.result == "OK" else "error"
