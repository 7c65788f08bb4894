"""One module per way of starting the job: the article's bug, each fix, and
django-rq 4's modern default. Each module's ``View`` is served at
``/variants/<module name>/`` (see ``tasks/urls.py``).
"""

#: Every variant, in the order the lessons meet them (a module of this package each).
VARIANTS = ["broken", "autocommit", "non_atomic", "in_job", "on_commit", "modern_default", "outbox"]
