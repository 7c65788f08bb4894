"""What an exercise's docstring says about the live page holds wherever the stack runs.

A learner whose web app answers on another port (WEB_BIND, WORKSHOP_WEB_PORT) followed
"Try it live: http://127.0.0.1:8000/..." to nothing (the walkthrough's stack was on 8201):
the docstring names the page's path and where to find the address, not one fixed port.
"""

import re

from django.conf import settings

from workshop_project import exercise_registry


def test_try_it_live_names_the_page_and_where_its_address_comes_from():
    pointers = 0
    for exercise in exercise_registry.load(settings.BASE_DIR):
        text = exercise.path().read_text()
        for line in re.findall(r"Try it live:.*(?:\n {14}.*)*", text):
            pointers += 1
            assert f"/exercises/{exercise.slug}/" in line, f"{exercise.slug}: {line!r} does not name its page"
            assert "workshop doctor" in line, f"{exercise.slug}: {line!r} names a fixed address only"
    assert pointers >= 3, f"only {pointers} exercises say where to try them live"
