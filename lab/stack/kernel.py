"""Install the "Django Shell-Plus" Jupyter kernel, the one every notebook names.

django-extensions writes this kernel spec when ``shell_plus --lab`` starts
JupyterLab. Containers, CI and ``make up`` need it without starting a
server, so this module asks django-extensions for the same spec and writes
it itself, adding what a notebook needs to drive Django:
``DJANGO_ALLOW_ASYNC_UNSAFE`` (Jupyter runs cells inside an event loop, and
without it every ORM call raises ``SynchronousOnlyOperation``).
"""

import json
import sys
from pathlib import Path

from django.conf import settings
from django_extensions.management.commands.shell_plus import Command as ShellPlus
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

KERNEL_NAME = "django_extensions"  # the name django-extensions gives it; notebooks' metadata use it
EXTENSION = "django_extensions.management.notebook_extension"


class _App:
    """The one attribute of a Jupyter app that django-extensions reads."""

    kernel_spec_manager = KernelSpecManager()


def spec() -> KernelSpec:
    """The kernel spec django-extensions would write, with the workshop's environment."""
    kernel = ShellPlus().generate_kernel_specs(_App(), ["--ext", EXTENSION])[KERNEL_NAME]
    kernel.argv[0] = sys.executable  # this environment's Python, wherever Jupyter runs from
    kernel.env.update(
        {
            "DJANGO_SETTINGS_MODULE": "workshop_project.settings",
            "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
            "PYTHONPATH": str(settings.BASE_DIR),
            # Tasks a lesson's cells create are the lab's, kept off the learner's list (tasks.models.current_is_lab).
            "WORKSHOP_LAB_KERNEL": "1",
        }
    )
    return kernel


def install(prefix: str | Path = sys.prefix) -> Path:
    """Write the spec under ``prefix`` (the virtualenv by default); return its folder."""
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec().to_dict(), indent=1) + "\n")
    return folder


def installed() -> bool:
    """Is a kernel named ``django_extensions`` visible to Jupyter from here?"""
    return KERNEL_NAME in KernelSpecManager().find_kernel_specs()
