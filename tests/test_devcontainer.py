"""``.devcontainer/devcontainer.json`` opens the workshop on the compose stack.

What is checked here, offline: the file is strict JSON; it is valid
against the specification's own JSON schema (a copy in tests/schemas/); it
uses only properties the specification defines for a Compose-based
container, with their types; and everything it names exists in
docker-compose.yml (the service, the folder the repository is mounted on,
the ports JupyterLab and the web app listen on). tests/containers/run.sh
also has the official Dev Containers CLI read it. Opening it in VS Code or
Codespaces needs Docker, which CI does not have (README says so).
"""

import copy
import json

import jsonschema
import pytest
import yaml

from lab.testing import BASE_DIR

#: Properties of the specification's Compose-based configuration, with their JSON types.
SPEC = {
    "name": str,
    "dockerComposeFile": (str, list),
    "service": str,
    "runServices": list,
    "workspaceFolder": str,
    "shutdownAction": str,
    "overrideCommand": bool,
    "forwardPorts": list,
    "portsAttributes": dict,
    "otherPortsAttributes": dict,
    "customizations": dict,
    "remoteUser": str,
    "containerUser": str,
    "remoteEnv": dict,
    "postCreateCommand": (str, list, dict),
    "postStartCommand": (str, list, dict),
    "features": dict,
}


def load():
    config = json.loads((BASE_DIR / ".devcontainer" / "devcontainer.json").read_text())
    compose_files = config["dockerComposeFile"]
    compose_files = [compose_files] if isinstance(compose_files, str) else compose_files
    composes = [yaml.safe_load((BASE_DIR / ".devcontainer" / name).read_text()) for name in compose_files]
    return config, composes[0]


def test_it_uses_only_the_specifications_properties_with_their_types():
    config, _ = load()
    for key, value in config.items():
        assert key in SPEC, f"devcontainer.json: {key!r} is not a property of a Compose-based dev container"
        assert isinstance(value, SPEC[key]), f"devcontainer.json: {key!r} should be {SPEC[key]}"
    assert config["shutdownAction"] in ("none", "stopCompose")
    for attributes in [*config["portsAttributes"].values(), config["otherPortsAttributes"]]:
        assert attributes.get("onAutoForward", "notify") in ("notify", "openBrowser", "openPreview", "silent", "ignore")


def test_what_it_names_exists_in_the_compose_stack():
    config, compose = load()
    services = compose["services"]
    service = services[config["service"]]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"] if isinstance(volume, str)}
    assert mounts.get(config["workspaceFolder"]) == ".", "workspaceFolder must be where the repository is mounted"
    assert config["overrideCommand"] is False, "the service's own command (bin/run jupyter) must run"
    for port in config["forwardPorts"]:
        name, _, number = str(port).rpartition(":")
        published = [str(spec).rsplit(":", 1)[-1] for spec in services[name or config["service"]].get("ports", [])]
        assert number in published, f"forwardPorts {port!r}: {name or config['service']} does not listen on {number}"
        assert str(port) in config["portsAttributes"], f"give port {port!r} a label in portsAttributes"


def schema_errors(config):
    """What the Dev Container specification's own schema (tests/schemas/, offline) says of ``config``."""
    schema = json.loads((BASE_DIR / "tests" / "schemas" / "devContainer.base.schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(config)
    ]


def test_it_is_valid_against_the_dev_container_json_schema():
    config, _ = load()
    assert schema_errors(config) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("shutdownAction", "explode"), ("forwardPorts", "8888"), ("overrideCommand", "no")],
)
def test_the_schema_check_would_catch_a_wrong_value(key, value):
    config, _ = load()
    broken = copy.deepcopy(config) | {key: value}
    assert schema_errors(broken), f"the schema accepted {key}={value!r}"
