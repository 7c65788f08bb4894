#!/usr/bin/env bash
# The containers, tested for real without Docker (CI has no Docker engine and
# no container registry; it has apt, the Debian mirror and PyPI):
#
#   1. lint: hadolint on the Dockerfile, docker-compose.yml against the
#      Compose Specification schema, loopback-only ports and non-root users
#   2. stand-in base images: debootstrap Debian 13 -> podman import ->
#      tagged with the names the Dockerfile and docker-compose.yml use
#   3. build the unchanged Dockerfile; start the stack with podman-compose in
#      the order its depends_on describes, polling (with a deadline) until
#      each stage is healthy (or, for migrate, has exited 0)
#   4. the running stack: published ports on 127.0.0.1 only, nothing runs as
#      root; JupyterLab refuses Host: evil.example and a cross-origin kernel
#      start; a killed rq worker comes back and runs a job;
#      inside the jupyter container: `workshop doctor` is clean,
#      `pytest exercises/ --solutions` passes, notebooks/00_welcome.ipynb runs
#   5. 3 and 4 again with the postgres profile, switched on by the `.env`
#      lines README.md gives (skip with CONTAINERS_POSTGRES=0)
#   6. tear everything down (trap): podman's storage, networks and volumes
#      live under one temporary folder, which is removed
#
# Needs root (rootful podman). Installs podman & co. with apt-get if missing.
# Everything a stand-in cannot prove is printed, prefixed "STAND-IN:".
# Settings: CONTAINERS_POSTGRES=0, CONTAINERS_HEALTH_TIMEOUT (s, default 240),
# DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
HERE=$REPO/tests/containers
started=$(date +%s)
DEADLINE_SECONDS=${CONTAINERS_HEALTH_TIMEOUT:-240}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

step() { printf '\n== %s  [%ss]\n' "$*" "$(( $(date +%s) - started ))"; }
standin() { printf 'STAND-IN: %s\n' "$*"; }
fail() { printf '✘ %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run this as root: it drives rootful podman (CI machines run as root)."

# --- 0. tools -------------------------------------------------------------
need_apt=()
for pair in podman:podman runc:runc debootstrap:debootstrap iptables:iptables; do
  command -v "${pair%%:*}" >/dev/null || need_apt+=("${pair##*:}")
done
[ -x /usr/lib/podman/netavark ] || need_apt+=(netavark)
[ -x /usr/lib/podman/aardvark-dns ] || need_apt+=(aardvark-dns)
[ -x /usr/libexec/podman/catatonit ] || need_apt+=(catatonit)  # `init: true` in docker-compose.yml
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

WORK=$(mktemp -d /tmp/workshop-containers.XXXXXX)
# Podman's configuration, storage, networks and volumes: all in $WORK, set
# before anything else (the teardown's `podman system reset` must only ever
# see this run's storage, never the machine's own).
mkdir -p "$WORK/run" "$WORK/networks"
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$WORK/run/libpod"
[network]
network_config_dir = "$WORK/networks"
EOF
cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run/storage"
EOF
cat >"$WORK/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
export CONTAINERS_CONF=$WORK/containers.conf CONTAINERS_STORAGE_CONF=$WORK/storage.conf \
  CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
export BUILDAH_FORMAT=docker   # keep the Dockerfile's HEALTHCHECK (the OCI format drops it)

# netavark (1.4) leaves an empty NAT chain per network behind: remember which
# exist now, and remove only the new, empty, unreferenced ones at the end.
nat_chains() { iptables -t nat -S 2>/dev/null | sed -n 's/^-N \(NETAVARK-DN-.*\)/\1/p' | sort; }
chains_before=$(nat_chains)
PROJECT=workshopci$$
COMPOSE=()   # set once the tools are installed
debootstrap_pid=''
standins_pid=''

teardown() {
  status=$?
  set +e
  step "teardown"
  if [ ${#COMPOSE[@]} -gt 0 ]; then
    if [ "$status" != 0 ]; then
      echo "-- last log lines of every container (the run failed)"
      for id in $(podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null); do
        echo "--- $(podman inspect --format '{{.Name}}' "$id")"
        podman logs --tail 30 "$id" 2>&1
      done
    fi
    "${COMPOSE[@]}" down -v -t 5 >"$WORK/down.log" 2>&1
  fi
  # A debootstrap still running has /proc mounted in its root: let it finish
  # (never rm -rf across a mount), then unmount anything left under $WORK.
  [ -n "${debootstrap_pid:-}" ] && wait "$debootstrap_pid" 2>/dev/null
  [ -n "${standins_pid:-}" ] && wait "$standins_pid" 2>/dev/null
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
  [ "${CONTAINERS_STORAGE_CONF:-}" = "$WORK/storage.conf" ] \
    && podman system reset --force >/dev/null 2>&1   # this run's storage only
  for chain in $(comm -13 <(echo "$chains_before") <(nat_chains)); do
    iptables -t nat -L "$chain" -n 2>/dev/null | head -1 | grep -q '(0 references)' && iptables -t nat -X "$chain"
  done
  findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | while read -r mount; do umount -l "$mount"; done
  rm -rf "$WORK"
  left=$(ls -d /tmp/workshop-containers."${WORK##*.}" 2>/dev/null)
  [ -z "$left" ] && echo "removed $WORK (images, containers, volumes, networks)" || echo "could not remove $left" >&2
  echo "== containers test finished in $(( $(date +%s) - started )) s (status $status)"
  exit "$status"
}
trap teardown EXIT

# The slowest step (about a minute, mostly downloads) runs while the tools
# install and the linters run.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  trixie "$WORK/rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 &
debootstrap_pid=$!

step "tools: hadolint, check-jsonschema, podman-compose (pinned, tests/containers/requirements.txt)"
python3 -m venv "$WORK/tools"
# The lock (`make lock`, from requirements.in beside it) pins every package
# with its hashes: nothing is left to resolve, nothing unchecked is installed.
"$WORK/tools/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$HERE/requirements.txt" >"$WORK/pip.log" 2>&1 \
  || { tail -20 "$WORK/pip.log"; fail "the tools did not install (log above)."; }
export PATH="$WORK/tools/bin:$PATH"


# --- 1. lint --------------------------------------------------------------
step "lint: hadolint Dockerfile"
hadolint Dockerfile && echo "✔ Dockerfile: no hadolint findings"
step "lint: docker-compose.yml against the Compose Specification schema"
check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
python "$HERE/compose_file.py" check

step "lint: .devcontainer/devcontainer.json read by the official Dev Containers CLI (npm, pinned)"
# read-configuration parses the file as VS Code and Codespaces do; it only
# asks Docker for existing containers, which /bin/true answers with none.
if command -v npm >/dev/null; then
  npm install --silent --no-audit --no-fund --prefix "$WORK/devcontainers" @devcontainers/cli@0.89.0 >"$WORK/npm.log" 2>&1 \
    || { tail -20 "$WORK/npm.log"; fail "the Dev Containers CLI did not install (log above)."; }
  "$WORK/devcontainers/node_modules/.bin/devcontainer" read-configuration --workspace-folder "$REPO" \
    --docker-path /bin/true --docker-compose-path /bin/true >"$WORK/devcontainer.json.out" 2>"$WORK/devcontainer.log" \
    || { cat "$WORK/devcontainer.log"; fail "the Dev Containers CLI could not read .devcontainer/devcontainer.json."; }
  echo "✔ .devcontainer/devcontainer.json: read by @devcontainers/cli 0.89.0"
else
  standin "npm is not installed: .devcontainer/devcontainer.json was checked by tests/test_devcontainer.py only."
fi

# --- 2. stand-in base images ---------------------------------------------
REDIS_IMAGE=$(python "$HERE/compose_file.py" image redis)
PYTHON_IMAGE=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -1)
POSTGRES_IMAGE=''
[ "${CONTAINERS_POSTGRES:-1}" = 0 ] || POSTGRES_IMAGE=$(python "$HERE/compose_file.py" image postgres)

step "stand-ins: waiting for debootstrap (Debian 13, trixie, from $DEBIAN_MIRROR)"
wait "$debootstrap_pid" || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap failed (log above)."; }
rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
# pip inside the build must trust what this machine trusts (a local CA, if any).
cp /etc/ssl/certs/ca-certificates.crt "$WORK/rootfs/etc/ssl/certs/ca-certificates.crt"
tar -C "$WORK/rootfs" -c . | podman import --quiet - localhost/workshop-standin-base:latest >/dev/null
rm -rf "$WORK/rootfs"

step "stand-ins: $PYTHON_IMAGE (then $REDIS_IMAGE${POSTGRES_IMAGE:+ and $POSTGRES_IMAGE}, while the project builds)"
standin_build() {  # NAME: build standins/NAME.Dockerfile, tagged as the official image it stands in for
  podman build --quiet --pull=never -f "$HERE/standins/$1.Dockerfile" -t "docker.io/library/$2" "$HERE/standins" >"$WORK/standin-$1.log" 2>&1 \
    || { tail -20 "$WORK/standin-$1.log"; fail "the $1 stand-in did not build (log above)."; }
}
standin_build python "$PYTHON_IMAGE"
# Redis and PostgreSQL come from Debian's mirror (apt-get in their builds):
# they build while the project's image does.
( standin_build redis "$REDIS_IMAGE" && { [ -z "$POSTGRES_IMAGE" ] || standin_build postgres "$POSTGRES_IMAGE"; } ) &
standins_pid=$!
standin "$PYTHON_IMAGE is Debian 13's python3 3.13 in /usr/bin, not the official image's own build in /usr/local; its digest and exact patch version are not tested."
standin "$REDIS_IMAGE is Debian 13's redis-server, run as user redis directly; the official entrypoint (root, then gosu) is not tested."
if [ -n "$POSTGRES_IMAGE" ]; then
  standin "$POSTGRES_IMAGE is Debian 13's PostgreSQL 17 with a small entrypoint imitating the official one (initdb, POSTGRES_USER/PASSWORD/DB), run as user postgres directly; the official entrypoint itself is not tested."
else
  standin "the postgres profile is validated by the schema only (CONTAINERS_POSTGRES=0): no PostgreSQL stand-in is built or started."
fi
standin "podman $(podman --version | grep -o '[0-9.]*$') and podman-compose, not Docker Engine and Docker Compose: depends_on is followed by this script, stage by stage, not by Compose itself (see below)."

# --- 3. build and up ------------------------------------------------------
export WORKSHOP_WEB_PORT WORKSHOP_JUPYTER_PORT
read -r WORKSHOP_WEB_PORT WORKSHOP_JUPYTER_PORT < <(python - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
EOF
)
# --in-pod false: one network namespace per service, as with Docker Compose.
COMPOSE=(podman-compose --in-pod false --project-name "$PROJECT" --file docker-compose.yml)

step "build the project's Dockerfile (cold: no cache)"
build_started=$(date +%s)
# Once, with the name docker-compose.yml gives it: podman-compose would build it
# once per service that says `build:` (four times, at the same time).
APP_IMAGE=$(python "$HERE/compose_file.py" image web)
podman build --pull=never -t "$APP_IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log"; fail "the image did not build (log above)."; }
echo "built in $(( $(date +%s) - build_started )) s; image size $(podman image inspect --format '{{.Size}}' "$APP_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
wait "$standins_pid" || fail "a stand-in did not build (log above)."
standins_pid=''

# podman-compose 1.6.0 on podman 4.3 cannot follow depends_on itself: it
# ignores service_healthy (needs podman >= 4.6) and its `--requires` links
# fail to start (podman 4.3: "not found in input list"). So this script starts
# the stack in the order docker-compose.yml's depends_on describes, one stage
# at a time (`up --no-deps`), and waits for each stage's condition
# (healthy, or exited 0) before starting the next, as Docker Compose would.
# Podman runs health checks from systemd timers; there is no systemd here,
# so the wait runs each service's own check (`podman healthcheck run`).
container() {  # the id of a compose service's container
  podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1" | head -1
}

ready() {  # SERVICE=healthy|completed -> 0 when reached; fails for good on a bad exit
  local service=${1%=*} want=${1#*=} id state
  id=$(container "$service")
  [ -n "$id" ] || return 1
  state=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$id")
  case "$want:$state" in
    "completed:exited 0") return 0 ;;
    completed:exited*|healthy:exited*) fail "$service exited with status ${state#exited }: $(podman logs --tail 5 "$id" 2>&1 | tr '\n' ' ')" ;;
    healthy:running*) podman healthcheck run "$id" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

in_jupyter() { podman exec "$(container jupyter)" "$@"; }

check_stack() {  # LABEL: start the stack stage by stage, then check it from outside and inside
  step "the stack on $1"
  local up_started deadline line stage names want service id binding users found
  up_started=$(date +%s)
  deadline=$(( up_started + DEADLINE_SECONDS ))
  services=()
  mapfile -t stages < <(python "$HERE/compose_file.py" stages)
  for line in "${stages[@]}"; do
    read -r -a stage <<<"$line"
    names=("${stage[@]%=*}")
    services+=("${names[@]}")
    step "up: ${stage[*]}"
    # Never pipe `up` into another command (its attached output can hold the pipe open).
    "${COMPOSE[@]}" up -d --no-build --no-deps "${names[@]}" </dev/null >>"$WORK/up.log" 2>&1 \
      || { tail -20 "$WORK/up.log"; fail "podman-compose up ${names[*]} failed (log above)."; }
    for want in "${stage[@]}"; do
      until ready "$want"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "${want%=*} was not ${want#*=} ${DEADLINE_SECONDS} s after up."
        sleep 1
      done
      echo "✔ ${want%=*} ${want#*=} ($(( $(date +%s) - up_started )) s after up)"
    done
  done
  echo "✔ the whole stack is up and healthy $(( $(date +%s) - up_started )) s after the first up"


  step "published ports are on 127.0.0.1 only; nothing runs as root"
  for service in "${services[@]}"; do
    id=$(container "$service")
    for binding in $(podman port "$id" 2>/dev/null | awk '{print $3}'); do
      [ "${binding%:*}" = 127.0.0.1 ] || fail "$service publishes on $binding: only 127.0.0.1 is allowed."
      echo "✔ $service: $binding"
    done
    [ "$service" = migrate ] && continue   # exited: checked through the compose file's user
    users=$(podman top "$id" user | tail -n +2 | sort -u | tr '\n' ' ')
    case " $users" in *" root "*|*" 0 "*) fail "$service runs processes as root ($users)." ;; esac
    echo "✔ $service runs as: $users"
  done


  step "in the jupyter container: JupyterLab refuses DNS rebinding (Host: evil.example) and a cross-origin kernel start"
  # To the address it binds (0.0.0.0:8888), as a rebound page would arrive at the published port.
  in_jupyter python tests/jupyter_probe.py http://127.0.0.1:8888 || fail "JupyterLab in the container is open to DNS rebinding (above)."

  step "the worker comes back by itself: kill -9 the rq worker inside its container, then a job runs"
  local worker_id old_pid
  worker_id=$(container worker)
  old_pid=$(podman exec "$worker_id" python -c 'import os, socket, redis, rq; print(next(w.pid for w in rq.Worker.all(connection=redis.Redis.from_url(os.environ["REDIS_URL"])) if w.hostname == socket.gethostname()))')
  podman exec "$worker_id" python -c "import os; os.kill($old_pid, 9)"
  echo "killed the rq worker (pid $old_pid in its container)"
  in_jupyter env OLD_PID="$old_pid" python manage.py shell -c '
import os, time, django_rq
from rq import Worker
from lab.lessons.barrier import settle
connection = django_rq.get_connection("default")
deadline = time.monotonic() + 90
while not any(w.pid != int(os.environ["OLD_PID"]) for w in Worker.all(connection=connection)) and time.monotonic() < deadline:
    time.sleep(0.5)
settle(timeout=60)
print("✔ a new worker registered and ran a job after the kill")
' || fail "the worker did not come back after it was killed."

  step "in the jupyter container: python manage.py workshop doctor"
  in_jupyter python manage.py workshop doctor || {
    echo "-- how the jupyter container resolves the other services:"
    in_jupyter python -c 'import socket; [print(name, sorted({a[4][0] for a in socket.getaddrinfo(name, None)})) for name in ("web", "redis", "worker")]' || true
    for service in web redis worker; do
      echo "$service: $(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$(container "$service")")"
    done
    fail "workshop doctor found a problem in the jupyter container (above)."
  }

  step "in the jupyter container: a JupyterLab terminal (a login shell) finds the image's pytest"
  # jupyter_server starts "$SHELL -l" when it has no tty, as in a container.
  found=$(in_jupyter sh -c 'exec "${SHELL:-sh}" -l -c "command -v pytest"' || true)
  [ "$found" = /opt/venv/bin/pytest ] || fail "a login shell in the jupyter container finds pytest at '$found', not /opt/venv/bin/pytest."
  echo "✔ $found"

  step "in the jupyter container: pytest exercises/ --solutions"
  if [ -d exercises ]; then
    in_jupyter pytest exercises/ --solutions -q
  else
    echo "SKIPPED: exercises/ is not in the repository yet."
  fi

  step "in the jupyter container: notebooks/00_welcome.ipynb runs top to bottom"
  if [ -f notebooks/00_welcome.ipynb ]; then
    # Not --inplace: nothing is written into the repository.
    in_jupyter jupyter execute notebooks/00_welcome.ipynb
  else
    echo "SKIPPED: notebooks/00_welcome.ipynb is not in the repository yet."
  fi
}

check_stack "SQLite (the default)"

if [ -n "$POSTGRES_IMAGE" ]; then
  step "down -v, then the postgres profile, switched on with the .env lines README.md gives"
  "${COMPOSE[@]}" down -v -t 5 </dev/null >>"$WORK/down.log" 2>&1 || fail "podman-compose down failed ($WORK/down.log)."
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
  # A new project name, so a new network: aardvark-dns 1.4 may keep answering
  # with the previous stack's addresses for a network re-created at once.
  PROJECT=${PROJECT}pg
  COMPOSE=(podman-compose --in-pod false --project-name "$PROJECT" --file docker-compose.yml)
  sed -n '/^```ini$/,/^```$/{/^```/d;p;}' README.md >"$WORK/postgres.env"
  cat "$WORK/postgres.env"
  grep -qx 'COMPOSE_PROFILES=postgres' "$WORK/postgres.env" || fail "README.md's \`\`\`ini block does not switch on COMPOSE_PROFILES=postgres."
  set -a; . "$WORK/postgres.env"; set +a
  check_stack "PostgreSQL (profile postgres)"
fi

step "all container checks passed"
