# The workshop's one image: web, worker, JupyterLab and the one-shot migrate
# all run it (docker-compose.yml), each through `bin/run`, the same entry
# point local mode uses. The repository is bind-mounted over /workshop at run
# time, so the code copied in here is only what the build itself needs (the
# kernel spec) and what a container started without the mount would run.
FROM python:3.13-slim-trixie

# PYTHONDONTWRITEBYTECODE: nothing is written into the learner's bind-mounted
#   repository behind their back (no __pycache__ owned by the container's user).
# The virtualenv lives outside /workshop, so the bind mount (and a host .venv
#   inside it) can never shadow the image's environment.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/home/workshop \
    SHELL=/bin/bash \
    WORKSHOP_DATA_DIR=/data \
    WORKSHOP_HEALTH_URL=http://127.0.0.1:8000/healthz

# A non-root user, uid/gid 1000 (the usual first user on a Linux host, so
# files written to the bind mount belong to the learner). Compose may run the
# containers as another uid (WORKSHOP_UID): HOME and /data are then still
# writable (sticky, world-writable, as /tmp), so any uid works.
# JupyterLab's terminal is a login shell (the server has no tty), and Debian's
# /etc/profile resets PATH for it: profile.d puts the virtualenv back first, so
# `pytest exercises/` works in a JupyterLab terminal too.
RUN groupadd --gid 1000 workshop \
    && useradd --uid 1000 --gid 1000 --home-dir /home/workshop --create-home --shell /bin/bash workshop \
    && install -d -m 1777 /home/workshop /data \
    && echo "export PATH=\"/opt/venv/bin:\$PATH\"" >/etc/profile.d/workshop-venv.sh

# Dependencies first, from the lock only (`make lock`: every package pinned,
# with its hashes, for linux and macOS on x86_64 and arm64; pip refuses a file
# whose hash differs): this layer is rebuilt when requirements.txt changes,
# not when the code does. The development tools (requirements-dev.txt) stay out.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

WORKDIR /workshop
COPY . /workshop

# The "Django Shell-Plus" kernel spec (env: DJANGO_SETTINGS_MODULE,
# DJANGO_ALLOW_ASYNC_UNSAFE, PYTHONPATH=/workshop), installed into the
# virtualenv. `bin/run jupyter` rewrites it at start, as whatever uid the
# container runs as: hence world-writable (this folder only). IPython makes
# ~/.ipython while loading, here as root: removed, so the user makes its own.
# This step's data folder and key are throwaway: Django's system checks open
# the SQLite databases (a JSONField's check), and the settings make a secret
# key; in /data, as root, both would be baked into the image, copied into the
# data volume and read-only for the containers' user ("attempt to write a
# readonly database" at migrate). Each checkout makes its own at run time.
RUN mkdir /tmp/build-data \
    && WORKSHOP_DATA_DIR=/tmp/build-data DJANGO_SECRET_KEY=image-build-only python manage.py workshop kernel \
    && chmod -R a+rwX /opt/venv/share/jupyter/kernels/django_extensions \
    && rm -rf /home/workshop/.ipython /tmp/build-data

USER 1000:1000
EXPOSE 8000 8888

# One probe for every service of this image: GET $WORKSHOP_HEALTH_URL must
# answer 2xx. The web's /healthz says 200 once its database is migrated;
# docker-compose.yml points the jupyter service at JupyterLab's /api and gives
# the worker its own check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['WORKSHOP_HEALTH_URL'], timeout=4)"]

CMD ["bin/run", "web"]
