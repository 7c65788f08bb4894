"""WSGI entry point, used by runserver and by the lab's in-process sample server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workshop_project.settings")

application = get_wsgi_application()
