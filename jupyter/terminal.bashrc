# The JupyterLab terminal's start-up file (jupyter/jupyter_server_config.py runs bash with it).
# The learner's own bash settings first, then the workshop's Python in front of whatever they put
# on PATH: pyenv's or conda's shims would otherwise answer `python` and `pytest` without Django.
# shellcheck shell=bash disable=SC1090,SC1091
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"
if [ -n "${WORKSHOP_PYTHON_BIN:-}" ]; then
  export PATH="$WORKSHOP_PYTHON_BIN:$PATH"
  hash -r
fi
