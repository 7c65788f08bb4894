"""A health check for the compose file, ``workshop doctor`` and the lab."""

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from workshop_project.safety import hide_url_passwords

#: What /healthz says when the database does not answer (the driver's first line follows).
NO_DATABASE = "The database does not answer ({error}): start it (make up, or docker compose up) and reload."


def unapplied_migrations(db_connection):
    """The migrations not yet applied to the database behind ``db_connection`` (a plan: empty when migrated)."""
    executor = MigrationExecutor(db_connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def outside_request_transactions(view):
    """ATOMIC_REQUESTS opens a transaction on every database before the view runs: with one of them
    down, that is a 500 before the view can answer. (``non_atomic_requests`` alone means "default".)"""
    for alias in settings.DATABASES:
        view = transaction.non_atomic_requests(using=alias)(view)
    return view


@require_GET
@outside_request_transactions
def health(request):
    """200 when the database answers and is migrated; 503 with a sentence otherwise."""
    try:
        unapplied = unapplied_migrations(connection)
    except Exception as error:  # any database error means "not healthy", said plainly
        first_line = hide_url_passwords(str(error).strip().splitlines()[0] if str(error).strip() else "")
        sentence = NO_DATABASE.format(error=f"{type(error).__name__}: {first_line}".rstrip(": "))
        return JsonResponse({"ok": False, "database": sentence}, status=503)
    if unapplied:
        return JsonResponse({"ok": False, "database": f"{len(unapplied)} migrations not applied"}, status=503)
    return JsonResponse({"ok": True, "database": connection.vendor})
