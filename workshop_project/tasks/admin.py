from django.contrib import admin

from .models import Outbox, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "created_on", "url", "url_length", "result", "job_id"]


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["id", "created_on", "queue", "func", "args", "sent_on", "attempts", "last_error"]
    list_filter = ["sent_on", "queue"]
