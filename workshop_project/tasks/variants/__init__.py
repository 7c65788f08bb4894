"""One module per way of starting the job: the article's bug, each fix, and
django-rq 4's modern default. Each module's ``View`` is served at
``/variants/<module name>/`` (see ``tasks/urls.py``).
"""
