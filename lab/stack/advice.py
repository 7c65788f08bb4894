"""What to tell a learner when a service does not answer: one home for those words.

The shell scripts (``bin/run``, the Makefile) say the same, in their own copy.
"""

#: The command that starts everything, in both ways of running the workshop.
START_STACK = "start the stack with `make up` (local) or `docker compose up`"

#: The local-mode setting that moves each service; the app's URL for it follows.
PORT_SETTING = {"Redis": "REDIS_PORT", "web": "WEB_BIND", "jupyter": "JUPYTER_BIND"}


def not_answering(service, address):
    """``Redis does not answer at redis://127.0.0.1:6379/0 …``: where we looked, what moves it, how to start it."""
    setting = PORT_SETTING.get(service)
    moved = f" (if the stack runs elsewhere, set the same {setting} here as where you started it)" if setting else ""
    return f"does not answer at {address}{moved}: {START_STACK}"
