"""Structural checks of the deploy artefacts: no Docker engine or cluster runs here, so these
tests hold docker-compose.yml, deploy/Dockerfile and deploy/k8s to the platform's facts
(services, ports, health paths, env wiring) by parsing them."""

import importlib.util
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SERVICE_PORTS = {
    "ledger": 5001,
    "authorization": 5002,
    "funding": 5003,
    "payout": 5004,
    "reconciliation": 5005,
}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = load_yaml(ROOT / "docker-compose.yml")
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def k8s_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return objects


def find_object(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_builds_each_service_from_the_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, port in SERVICE_PORTS.items():
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["build"]["context"] == "."
        assert service["build"]["args"]["SERVICE"] == name
        assert f"{port}:{port}" in service["ports"]
        assert "/health/ready" in service["healthcheck"]["test"]


def test_compose_services_wait_for_healthy_kafka_and_postgres(compose: dict[str, Any]) -> None:
    for name in SERVICE_PORTS:
        depends_on = compose["services"][name]["depends_on"]
        for dependency in ("kafka", "postgres"):
            assert depends_on[dependency]["condition"] == "service_healthy"
    for infrastructure in ("kafka", "postgres"):
        assert compose["services"][infrastructure]["healthcheck"]["test"]


def test_compose_wires_each_service_to_its_own_database_and_the_broker(compose: dict[str, Any]) -> None:
    for name, port in SERVICE_PORTS.items():
        env = compose["services"][name]["environment"]
        prefix = f"CLEARWAY_{name.upper()}_"
        database_url = env[f"{prefix}DATABASE_URL"]
        assert database_url.startswith("postgresql+asyncpg://")
        assert database_url.endswith(f"@postgres:5432/clearway_{name}")
        assert str(env[f"{prefix}PORT"]) == str(port)
        assert env[f"{prefix}HOST"] == "0.0.0.0"
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
        assert "CLEARWAY_API_KEYS" in env
        for other, other_port in SERVICE_PORTS.items():
            assert env[f"CLEARWAY_{other.upper()}_URL"] == f"http://{other}:{other_port}"


def test_compose_kafka_is_a_single_kraft_node_with_a_persistent_volume(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["CLUSTER_ID"]
    volume, mount = kafka["volumes"][0].split(":")[:2]
    assert mount == env["KAFKA_LOG_DIRS"]
    assert volume in compose["volumes"]


def test_compose_postgres_is_16_with_the_init_script(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].split(":")[1].startswith("16")
    mounts = [volume.split(":") for volume in postgres["volumes"]]
    assert [
        "./deploy/postgres/init-databases.sql",
        "/docker-entrypoint-initdb.d/init-databases.sql",
        "ro",
    ] in (mounts)
    named = [source for source, target, *_ in mounts if target == "/var/lib/postgresql/data"]
    assert named and named[0] in compose["volumes"]


def test_init_sql_creates_one_database_per_service() -> None:
    sql = (DEPLOY / "postgres" / "init-databases.sql").read_text()
    created = re.findall(r"^CREATE DATABASE (\w+);", sql, flags=re.MULTILINE)
    assert sorted(created) == sorted(f"clearway_{name}" for name in SERVICE_PORTS)


# --- Dockerfile ---------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_and_parameterised_by_service() -> None:
    instructions = dockerfile_instructions()
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) >= 2
    # Every stage that uses SERVICE must declare it: ARG scope ends at FROM.
    assert [args for op, args in instructions if op == "ARG"].count("SERVICE") == len(stages)


def test_dockerfile_syncs_the_service_from_the_lockfile_with_every_member_copied_first() -> None:
    instructions = dockerfile_instructions()
    runs = [args for op, args in instructions if op == "RUN"]
    copies = [args for op, args in instructions if op == "COPY"]
    assert any("pip install" in run and "uv==" in run for run in runs)
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs and all(
        "--frozen" in sync and "--no-dev" in sync and '--package "clearway-${SERVICE}"' in sync for sync in syncs
    )
    assert "pyproject.toml uv.lock ./" in copies
    members = sorted(ROOT.glob("libs/*/pyproject.toml")) + sorted(ROOT.glob("services/*/pyproject.toml"))
    for member in members:
        relative = member.relative_to(ROOT)
        assert f"{relative} {relative.parent}/" in copies, f"Dockerfile does not copy {relative}"


def test_dockerfile_runs_as_non_root_with_a_liveness_healthcheck() -> None:
    instructions = dockerfile_instructions()
    users = [args for op, args in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    healthchecks = [args for op, args in instructions if op == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/health/live" in healthchecks[0]
    commands = [args for op, args in instructions if op == "CMD"]
    assert "main migrate" in commands[-1] and "main serve" in commands[-1]


class HealthHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health/live" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), HealthHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(timeout=5)


def test_healthcheck_script_probes_the_service_port(health_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("clearway_deploy_healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    assert healthcheck.DEFAULT_PORTS == SERVICE_PORTS
    monkeypatch.setenv("CLEARWAY_SERVICE", "payout")
    monkeypatch.setenv("CLEARWAY_PAYOUT_PORT", str(health_server))
    monkeypatch.setattr("sys.argv", ["healthcheck.py", "/health/live"])
    assert healthcheck.main() == 0
    monkeypatch.setattr("sys.argv", ["healthcheck.py", "/health/ready"])
    assert healthcheck.main() == 1


# --- Kubernetes ---------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    manifests = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(manifests)
    assert kustomization["namespace"] == "clearway"


def test_every_object_lives_in_the_clearway_namespace(k8s_objects: list[dict[str, Any]]) -> None:
    find_object(k8s_objects, "Namespace", "clearway")
    for obj in k8s_objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "clearway"


def test_configmap_points_every_service_at_the_broker_with_idempotence(
    k8s_objects: list[dict[str, Any]],
) -> None:
    data = find_object(k8s_objects, "ConfigMap", "clearway-config")["data"]
    assert data["KAFKA_BOOTSTRAP_SERVERS"]
    assert data["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    for name, port in SERVICE_PORTS.items():
        assert data[f"CLEARWAY_{name.upper()}_URL"] == f"http://{name}:{port}"


def test_secret_is_a_template_without_real_credentials(k8s_objects: list[dict[str, Any]]) -> None:
    data = find_object(k8s_objects, "Secret", "clearway-secrets")["stringData"]
    assert data["api-keys"] == "[]"
    for name in SERVICE_PORTS:
        url = data[f"{name}-database-url"]
        assert "REPLACE_ME" in url and url.endswith(f"/clearway_{name}")


def container_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container["env"]}


@pytest.mark.parametrize("name", SERVICE_PORTS)
def test_deployment_probes_env_and_migrations(name: str, k8s_objects: list[dict[str, Any]]) -> None:
    pod = find_object(k8s_objects, "Deployment", name)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    (migrate,) = pod["initContainers"]
    assert container["command"] == ["python", "-m", f"clearway.{name}.main", "serve"]
    assert migrate["command"] == ["python", "-m", f"clearway.{name}.main", "migrate"]
    assert migrate["image"] == container["image"] == f"clearway/{name}:0.1.0"

    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path
        assert ports.get(http_get["port"], http_get["port"]) == SERVICE_PORTS[name]

    for runner in (container, migrate):
        assert {"configMapRef": {"name": "clearway-config"}} in runner["envFrom"]
        env = container_env(runner)
        prefix = f"CLEARWAY_{name.upper()}_"
        assert env[f"{prefix}DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "clearway-secrets",
            "key": f"{name}-database-url",
        }
        assert env["CLEARWAY_API_KEYS"]["valueFrom"]["secretKeyRef"]["key"] == "api-keys"
        assert env[f"{prefix}PORT"]["value"] == str(SERVICE_PORTS[name])
        assert env[f"{prefix}HOST"]["value"] == "0.0.0.0"
        assert runner["resources"]["requests"] and runner["resources"]["limits"]


@pytest.mark.parametrize("name", SERVICE_PORTS)
def test_service_targets_the_deployment_port(name: str, k8s_objects: list[dict[str, Any]]) -> None:
    deployment = find_object(k8s_objects, "Deployment", name)
    service = find_object(k8s_objects, "Service", name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == SERVICE_PORTS[name]
    assert ports.get(service_port["targetPort"], service_port["targetPort"]) == SERVICE_PORTS[name]
