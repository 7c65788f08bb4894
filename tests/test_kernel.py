"""The Jupyter kernel every notebook names: installed, and able to drive the ORM."""

import json

from lab.stack import kernel


def test_the_kernel_spec_is_django_extensions_with_what_a_notebook_needs(tmp_path):
    folder = kernel.install(prefix=tmp_path)
    spec = json.loads((folder / "kernel.json").read_text())
    assert folder.name == "django_extensions"
    assert spec["display_name"] == "Django Shell-Plus"
    assert "django_extensions.management.notebook_extension" in spec["argv"]
    assert spec["env"]["DJANGO_ALLOW_ASYNC_UNSAFE"] == "true"
    assert spec["env"]["DJANGO_SETTINGS_MODULE"] == "workshop_project.settings"
    # Tasks a lesson creates with the ORM are the lab's, kept off the learner's list (tests/test_pages.py).
    assert spec["env"]["WORKSHOP_LAB_KERNEL"] == "1"
