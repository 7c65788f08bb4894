from django.apps import AppConfig


class TasksConfig(AppConfig):
    """The article's app: a task per URL, measured by a background job."""

    name = "workshop_project.tasks"
    label = "tasks"
    verbose_name = "Tasks"
