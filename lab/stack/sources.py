"""The folders of Python code the rq worker runs: one list, read by both users.

``bin/run worker`` restarts the worker when a ``.py`` file in one of them
changes (it runs ``python -m lab.stack.sources``, which prints those that exist),
and ``workshop doctor`` warns when one changed after the worker started.
Standard library only: ``bin/run`` reads it before Django is set up.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
FOLDERS = ("workshop_project", "lab", "exercises", "solutions")


def existing() -> list[str]:
    """The folders that exist in this checkout (watchfiles refuses a missing one)."""
    return [folder for folder in FOLDERS if (BASE_DIR / folder).is_dir()]


if __name__ == "__main__":
    print(*existing())
