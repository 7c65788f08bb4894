"""runserver's request log without the task rows' polls.

A pending row asks for itself every second (htmx); `make up` shows runserver's
log, and one wrong ex01 filled it with 327 lines in 2.5 minutes, burying what
the learner wanted to read. Polls that succeed are left out; a poll that fails
(4xx, 5xx), and every other request, is logged as before.
"""

import logging
import re

ROW_POLL = re.compile(r"GET /tasks/\d+/row/ ")


class QuietRowPolls(logging.Filter):
    def filter(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) >= 2 and isinstance(args[0], str) and ROW_POLL.match(args[0]):
            return not str(args[1]).startswith(("2", "3"))
        return True
