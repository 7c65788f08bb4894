"""What run.sh needs to know about docker-compose.yml, read from the file itself.

    python compose_file.py check     static checks the schema cannot express
    python compose_file.py stages    the start order its depends_on describes
    python compose_file.py image S   the image service S names

Services in a profile are left out unless COMPOSE_PROFILES names the
profile, as Docker Compose does.
"""

import os
import re
import sys

import yaml

PATH = "docker-compose.yml"


def load():
    with open(PATH) as file:
        return yaml.safe_load(file)


def active_services(compose):
    profiles = set(filter(None, os.environ.get("COMPOSE_PROFILES", "").split(",")))
    return {
        name: service
        for name, service in compose["services"].items()
        if not service.get("profiles") or profiles & set(service["profiles"])
    }


def check(compose):
    """Every published port on 127.0.0.1; every service built from the project runs as non-root."""
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published', '')}"
            if not str(spec).startswith("127.0.0.1:"):
                yield f"service {name!r} publishes {spec!r} on every interface: publish it on 127.0.0.1 only"
        if "build" in service:
            # The user as Compose resolves it when no variable is set: ${X:-1000} -> 1000.
            user = re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", str(service.get("user", "")))
            if user.split(":")[0] in ("", "0", "root"):
                yield f"service {name!r} runs as {user or 'the image default'!r}: give it a non-root user"


def stages(services):
    """Start order, as Docker Compose would follow it: one list per stage.

    Each item is "SERVICE=completed" when another service waits for it with
    service_completed_successfully, else "SERVICE=healthy". A dependency on a
    service that is not active (another profile) counts only if it is required.
    """
    waits = {}
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            if dependency not in services and rule.get("required", True) is False:
                continue
            if dependency not in services:
                raise SystemExit(f"{name} depends on {dependency}, which is not an active service")
            waits.setdefault(name, set()).add(dependency)
            if rule.get("condition") == "service_completed_successfully":
                services[dependency]["_completes"] = True
    done, order = set(), []
    while len(done) < len(services):
        ready = sorted(name for name in services if name not in done and waits.get(name, set()) <= done)
        if not ready:
            raise SystemExit(f"depends_on has a cycle among: {', '.join(sorted(set(services) - done))}")
        order.append([f"{name}={'completed' if services[name].get('_completes') else 'healthy'}" for name in ready])
        done.update(ready)
    return order


def main(command, *args):
    compose = load()
    if command == "check":
        found = list(check(compose))
        for problem in found:
            print(f"✘ {PATH}: {problem}")
        if not found:
            print(f"✔ {PATH}: ports on 127.0.0.1 only, the app services run as a non-root user")
        return 1 if found else 0
    if command == "stages":
        for stage in stages(active_services(compose)):
            print(" ".join(stage))
        return 0
    if command == "image":
        print(compose["services"][args[0]]["image"])
        return 0
    raise SystemExit(f"unknown command {command!r}: check, stages or image SERVICE")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
