"""The recipes' own test databases on PostgreSQL: ``recipe_test_<name>``, not ``test_<name>``.

A recipe is pytest run by a lesson, and also by the project's own tests
(tests/test_your_test.py) from inside a pytest session whose ``test_<name>``
database is open: pytest-django could neither create nor drop it there
(Django exits with status 2). SQLite's test databases are per process already.
"""

from django.conf import settings


def pytest_configure(config):
    for database in settings.DATABASES.values():
        if not database["ENGINE"].endswith("sqlite3"):
            database.setdefault("TEST", {})["NAME"] = f"recipe_test_{database['NAME']}"
