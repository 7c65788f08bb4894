"""Fix 1: `ATOMIC_REQUESTS = False`: every query commits on its own.

The view's code is the broken one, unchanged. What changes is the request
around it: Django no longer wraps the view in a transaction, so
`Task.objects.create` commits before `.delay()` runs.

How this page arranges it, honestly: turning the setting off for the whole
project would change every other page on this server too, so this URL serves
the broken view wrapped in `transaction.non_atomic_requests`. That is
what Django's request handler does for *every* view when the setting is off:
it skips the `atomic()` wrapper. (For the default database only: without
`using`, `non_atomic_requests` leaves this project's `"second"` alias
in its request transaction, which this view does not write to.) (Fix 2, `non_atomic.py`, is the
same switch used deliberately on one view, with the transaction managed by
hand.)

(Single backquotes, as Markdown: lesson 03 prints this docstring.)
"""

from django.db import transaction
from django.utils.decorators import method_decorator

from . import broken


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class View(broken.View):
    source = broken.__file__
