"""The relay's heartbeat: a file it touches after every pass, so others can tell it is alive.

``workshop doctor`` and the container's health check (``manage.py relay --check``)
read its age; ``outbox`` re-exports these names.
"""

import os
import time
from pathlib import Path

from django.conf import settings

#: A relay whose last pass is older than this is reported stuck (doctor, the container's health check).
STALE_AFTER = 30.0


def heartbeat_path():
    """The file the relay touches after every pass: $WORKSHOP_RELAY_HEARTBEAT, or the data folder's.

    In the data folder, the web's and JupyterLab's containers (and ``workshop
    doctor``) see it too: compose mounts the same volume in every app container.
    """
    return Path(os.environ.get("WORKSHOP_RELAY_HEARTBEAT") or Path(settings.DATA_DIR) / "relay.heartbeat")


def last_pass_age():
    """Seconds since a relay's last pass; None if no relay has ever run here."""
    try:
        return time.time() - heartbeat_path().stat().st_mtime
    except FileNotFoundError:
        return None
