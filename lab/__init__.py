"""The lab: the code around the Django project, in one package per audience.

Each subpackage says who imports it and what it may import; imports run one
way, down this list (``tests/test_lab_layout.py`` keeps it so):

- ``lab.lessons``: what the notebooks import (``from lab.lessons import lesson, race``).
- ``lab.grader``: ``pytest exercises/``: the plugin and the vocabulary the checks use.
- ``lab.core``: what lessons and the grader share (outcomes, the amplifier, the web client, progress).
- ``lab.stack``: the running stack (supervisor, doctor, kernel, the worker's sources).
- ``lab.testing``: real servers on free ports for tests and CI (``python -m lab.testing``).

``lab.lessons`` and ``lab.grader`` never import each other. The ``workshop``
management command (``lab/management``) sits on top and may use them all.
"""
