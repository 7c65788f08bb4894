"""A health check for the compose file, ``workshop doctor`` and the lab."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET


def unapplied_migrations(db_connection):
    """The migrations not yet applied to the database behind ``db_connection`` (a plan: empty when migrated)."""
    executor = MigrationExecutor(db_connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


@require_GET
def health(request):
    """200 when the database answers and is migrated; 503 otherwise."""
    try:
        unapplied = unapplied_migrations(connection)
    except Exception as error:  # any database error means "not healthy", said plainly
        return JsonResponse({"ok": False, "database": str(error)}, status=503)
    if unapplied:
        return JsonResponse({"ok": False, "database": f"{len(unapplied)} migrations not applied"}, status=503)
    return JsonResponse({"ok": True, "database": connection.vendor})
