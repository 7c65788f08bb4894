from django.apps import AppConfig


class LabConfig(AppConfig):
    """The lab is an app only so that ``manage.py workshop`` is found."""

    name = "lab"
    verbose_name = "Workshop lab"
