"""The recipes' own test databases: ``recipe-test-<name>.sqlite3`` / ``recipe_test_<name>``.

A recipe is pytest run by a lesson, and also by the project's own tests
(tests/test_your_test.py) from inside a pytest session whose test databases
are open (the live web, worker and relay hold them too). pytest-django would
recreate those same databases under them: Django exits with status 2 on
PostgreSQL, and SQLite answers "disk I/O error" for the file deleted under
its readers.
"""

from pathlib import Path

from django.conf import settings


def pytest_configure(config):
    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if database["ENGINE"].endswith("sqlite3") and test.get("NAME"):
            test["NAME"] = str(Path(test["NAME"]).with_name(f"recipe-{Path(test['NAME']).name}"))
        elif not database["ENGINE"].endswith("sqlite3"):
            test["NAME"] = f"recipe_test_{database['NAME']}"
