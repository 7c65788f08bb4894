"""The workshop's JupyterLab server settings. ``bin/run jupyter`` puts this folder first on
JUPYTER_CONFIG_PATH, so they apply on top of a learner's own ``~/.jupyter`` (its flags still win).

- **Lessons are saved as committed.** JupyterLab autosaves a notebook with the outputs of every
  cell a learner ran: ``git status`` then showed every lesson modified, and a later ``git pull``
  of the workshop conflicted. A lesson (a notebook under ``notebooks/``) is saved without
  outputs, execution counts or the kernel's language details, as ``nbstripout --keep-id``
  commits it; the outputs stay on screen. A learner's own notebooks elsewhere keep theirs.
- **A terminal finds the workshop's Python first.** JupyterLab's terminal runs a login shell,
  whose start-up files (pyenv's, conda's) put their own ``python`` and ``pytest`` first:
  ``pytest exercises/`` then said "No module named 'django'". The terminal is bash, reading the
  learner's ``~/.bashrc`` and then ``terminal.bashrc``, which puts this server's Python first.
- **A kernel nobody looks at stops.** Each opened lesson starts a kernel; closing the tab shuts
  it down (``settings/overrides.json``), and one left by a closed browser tab is shut down after
  an hour idle.
"""

import os
import shutil
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
LESSONS = "notebooks/"
#: Cell metadata that only records how a cell was last run or shown (nbstripout drops the same).
RUN_METADATA = ("collapsed", "scrolled", "execution", "ExecuteTime", "trusted")


def strip_lesson_outputs(model, path, **_):
    """``ContentsManager.pre_save_hook``: a lesson goes to disk as committed, whatever ran in it."""
    if model.get("type") != "notebook" or not path.lstrip("/").startswith(LESSONS):
        return
    notebook = model["content"]
    for cell in notebook.get("cells", []):
        for key in RUN_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    metadata = notebook.setdefault("metadata", {})
    metadata.pop("widgets", None)
    if "language_info" in metadata:  # the kernel adds its Python's version, which differs per machine
        metadata["language_info"] = {"name": metadata["language_info"].get("name", "python")}


c = get_config()  # noqa: F821 (traitlets defines it for a config file)
c.ContentsManager.pre_save_hook = strip_lesson_outputs
# The hook reaches the ContentsManager twice at start-up, and traitlets then warned under every `make up` that
# strip_lesson_outputs overrode itself. Only that line is hidden: a learner's own hook replaced still warns.
warnings.filterwarnings(
    "ignore", r"Overriding existing pre_save_hook \(strip_lesson_outputs\) with a new one \(strip_lesson_outputs\)"
)

# The Python this server runs on is the workshop's (.venv/bin in local mode, /opt/venv/bin in Docker).
os.environ["WORKSHOP_PYTHON_BIN"] = os.path.dirname(sys.executable)
if sys.prefix != sys.base_prefix:
    os.environ["VIRTUAL_ENV"] = sys.prefix
bash = shutil.which("bash")
if bash:
    c.ServerApp.terminado_settings = {"shell_command": [bash, "--rcfile", os.path.join(HERE, "terminal.bashrc"), "-i"]}

c.MappingKernelManager.cull_idle_timeout = 3600  # seconds idle, with no browser tab connected
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_interval = 300
