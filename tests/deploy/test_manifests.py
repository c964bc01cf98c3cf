"""Every manifest under deploy/ (and serve/config.yaml) parses and matches its consumer's schema.

Serve configs are validated with Ray's own ``ServeDeploySchema``; each application's ``args``
with the builder's typed args; the launcher config with Ray's ``ray-schema.json``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MANIFESTS = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d is not None]


def _rayservice() -> dict[str, Any]:
    docs = _docs(DEPLOY / "kuberay" / "rayservice.yaml")
    return next(d for d in docs if d["kind"] == "RayService")


def _serve_configs() -> dict[str, dict[str, Any]]:
    configs = {"kuberay": yaml.safe_load(_rayservice()["spec"]["serveConfigV2"])}
    config_yaml = ROOT / "serve" / "config.yaml"
    if config_yaml.exists():
        configs["serve/config.yaml"] = yaml.safe_load(config_yaml.read_text("utf-8"))
    return configs


def test_deploy_has_every_manifest() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in MANIFESTS}
    assert {
        "kuberay/rayservice.yaml",
        "ray/cluster.yaml",
        "compose/docker-compose.yaml",
    } <= names


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_manifest_parses(path: Path) -> None:
    docs = _docs(path)
    assert docs and all(isinstance(d, dict) for d in docs)


@pytest.mark.parametrize("name", ["kuberay", "serve/config.yaml"])
def test_serve_config_matches_rays_schema(name: str) -> None:
    from ray.serve.schema import ServeDeploySchema

    configs = _serve_configs()
    if name not in configs:
        pytest.skip(f"{name} does not exist yet")
    schema = ServeDeploySchema.model_validate(configs[name])
    assert "ingest" in {app.name for app in schema.applications}


@pytest.mark.parametrize("name", ["kuberay", "serve/config.yaml"])
def test_serve_apps_import_and_args_validate(name: str) -> None:
    """Each import path resolves to a builder and its ``args`` pass the builder's typed args."""
    from ray.serve.schema import ServeDeploySchema

    configs = _serve_configs()
    if name not in configs:
        pytest.skip(f"{name} does not exist yet")
    args_types = {
        "serve.app:build_app": "IngestArgs",
        "serve.chatbot:build_chat_app": "ChatAppArgs",
    }
    for app in ServeDeploySchema.model_validate(configs[name]).applications:
        module_name, _, attr = app.import_path.partition(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, attr)), app.import_path
        args_type = getattr(module, args_types[app.import_path])
        args_type.model_validate(app.args)


def test_kuberay_serves_ingest_and_chatbot() -> None:
    from ray.serve.schema import ServeDeploySchema

    schema = ServeDeploySchema.model_validate(_serve_configs()["kuberay"])
    apps = {app.name: app for app in schema.applications}
    assert apps["ingest"].import_path == "serve.app:build_app"
    assert apps["ingest"].route_prefix == "/"
    assert apps["chatbot"].import_path == "serve.chatbot:build_chat_app"
    assert apps["chatbot"].route_prefix == "/chat"
    assert apps["ingest"].args["warehouse_url"].startswith("clickhouse://")
    autoscaling = apps["ingest"].args["autoscaling"]
    assert 1 <= autoscaling["min_replicas"] < autoscaling["max_replicas"]


def test_kuberay_cluster_groups_resources_and_env() -> None:
    docs = _docs(DEPLOY / "kuberay" / "rayservice.yaml")
    service = _rayservice()
    assert service["apiVersion"] == "ray.io/v1"
    cluster = service["spec"]["rayClusterConfig"]
    pods = [cluster["headGroupSpec"]["template"]] + [
        g["template"] for g in cluster["workerGroupSpecs"]
    ]
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert {"OLLIVE_REDIS_URL", "OLLIVE_WAREHOUSE_URL"} <= set(secret["stringData"])
    assert secret["stringData"]["OLLIVE_WAREHOUSE_URL"].startswith("clickhouse://")
    for pod in pods:
        for container in pod["spec"]["containers"]:
            assert container["resources"]["requests"]["cpu"]
            assert container["resources"]["limits"]["memory"]
            refs = [e["secretRef"]["name"] for e in container.get("envFrom", [])]
            assert secret["metadata"]["name"] in refs
    for group in cluster["workerGroupSpecs"]:
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


def test_launcher_config_matches_rays_schema() -> None:
    import jsonschema
    import ray.autoscaler

    schema_path = Path(ray.autoscaler.__file__).parent / "ray-schema.json"
    schema = json.loads(schema_path.read_text("utf-8"))
    config = yaml.safe_load((DEPLOY / "ray" / "cluster.yaml").read_text("utf-8"))
    jsonschema.validate(config, schema)
    assert config["head_node_type"] in config["available_node_types"]
    for local, _remote in [(v, k) for k, v in config["file_mounts"].items()]:
        assert (ROOT / local).exists(), local


def test_compose_runs_clickhouse_and_valkey_that_ollive_env_points_at() -> None:
    from ollive.config import Settings
    from ollive.store._url import parse_warehouse_url

    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yaml").read_text("utf-8"))
    services = compose["services"]
    assert {"clickhouse", "valkey"} <= set(services)
    ports = {s: {p.split(":")[0] for p in services[s]["ports"]} for s in ("clickhouse", "valkey")}
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "compose" / "ollive.env").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    )
    settings = Settings(
        warehouse_url=env["OLLIVE_WAREHOUSE_URL"], redis_url=env["OLLIVE_REDIS_URL"]
    )
    url = parse_warehouse_url(settings.warehouse_url or "")
    ch = services["clickhouse"]["environment"]
    assert url.scheme == "clickhouse" and str(url.port) in ports["clickhouse"]
    assert url.database == ch["CLICKHOUSE_DB"] and url.username == ch["CLICKHOUSE_USER"]
    assert url.password in ch["CLICKHOUSE_PASSWORD"]  # ${CLICKHOUSE_PASSWORD:-<default>}
    assert (settings.redis_url or "").rsplit(":", 1)[1].split("/")[0] in ports["valkey"]


#: ClickHouse 25.8's system log tables (config.xml's sections that create a MergeTree log)
SYSTEM_LOGS = (
    "query_log", "part_log", "text_log", "metric_log", "asynchronous_metric_log", "error_log",
    "trace_log", "query_thread_log", "query_views_log", "processors_profile_log",
    "opentelemetry_span_log", "latency_log", "blob_storage_log", "session_log", "backup_log",
    "s3queue_log", "zookeeper_log",
)  # fmt: skip


def test_clickhouse_system_logs_are_bounded_and_mounted() -> None:
    """Every system log of the server is either off or kept with a delete TTL of days; the
    compose file mounts the file into config.d (no server runs here: checked as text)."""
    import re
    import xml.etree.ElementTree as ET

    path = DEPLOY / "clickhouse" / "config.d" / "ollive-system-logs.xml"
    root = ET.parse(path).getroot()
    assert root.tag == "clickhouse"
    sections = {child.tag: child for child in root}
    assert set(sections) == set(SYSTEM_LOGS)
    for name, section in sections.items():
        ttl = section.findtext("ttl")
        if section.get("remove") == "1":
            assert ttl is None and len(section) == 0, name
        else:
            assert ttl is not None and re.fullmatch(
                r"event_date \+ INTERVAL [1-9][0-9]* DAY DELETE", ttl
            ), name
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yaml").read_text("utf-8"))
    mounts = compose["services"]["clickhouse"]["volumes"]
    assert (
        "../clickhouse/config.d/ollive-system-logs.xml:"
        "/etc/clickhouse-server/config.d/ollive-system-logs.xml:ro"
    ) in mounts
