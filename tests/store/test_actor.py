"""The warehouse actor: every process shares the embedded chDB through it (real Ray)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ._suite import WarehouseSuite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def actor_warehouse(ray_session, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from ollive.store.actor import ActorWarehouse
    from serve.warehouse import ensure_warehouse_actor

    directory: Path = tmp_path_factory.mktemp("actor-wh")
    handle = ensure_warehouse_actor(f"chdb://{directory}")
    yield ActorWarehouse()
    ray_session.kill(handle)


class TestActor(WarehouseSuite):
    @pytest.fixture
    def wh(self, actor_warehouse):  # type: ignore[no-untyped-def]
        return actor_warehouse


def test_connect_through_the_actor(actor_warehouse, project) -> None:  # type: ignore[no-untyped-def]
    import ollive

    from ._suite import inference_rows

    con = ollive.connect("ray://warehouse", project=project)
    assert con.warehouse.backing_url.startswith("chdb://")
    actor_warehouse.insert_arrow("inference_logs", inference_rows(project, 7))
    t = con.table("inference_logs")
    assert t.filter(t.project == project).count().execute() == 7


def test_actor_errors_come_back_as_storage_errors(actor_warehouse) -> None:  # type: ignore[no-untyped-def]
    from ollive.errors import StorageError

    with pytest.raises(StorageError):
        actor_warehouse.query_arrow("SELECT * FROM no_such_table")


def test_uuid_columns_come_back_as_text_through_the_actor(actor_warehouse, project) -> None:  # type: ignore[no-untyped-def]
    import ollive

    from ._suite import inference_rows

    actor_warehouse.insert_arrow("inference_logs", inference_rows(project, 3))
    con = ollive.connect("ray://warehouse", project=project)
    t = con.table("inference_logs")
    rows = t.filter(t.project == project).select("request_id", "model").to_pyarrow().to_pylist()
    assert len(rows) == 3 and all(len(r["request_id"]) == 36 for r in rows)
    df = t.filter(t.project == project).select("request_id").to_pandas()
    assert sorted(str(v) for v in df["request_id"]) == sorted(r["request_id"] for r in rows)


def test_a_proxy_follows_the_actor_that_holds_the_name_now(actor_warehouse, ray_session) -> None:  # type: ignore[no-untyped-def]
    """A notebook keeps its connection across an `ollive down` / `ollive up`: the proxy's
    actor is gone for good, and a new actor holds the name."""
    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR, ActorWarehouse
    from serve.warehouse import ensure_warehouse_actor

    proxy = ActorWarehouse()
    url = proxy.backing_url
    ray_session.kill(ray_session.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE), no_restart=True)
    deadline = time.monotonic() + 30
    while True:  # the name is released once the actor is dead
        try:
            ray_session.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE)
        except ValueError:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    ensure_warehouse_actor(url)
    assert proxy.scalar("SELECT 1") == 1
    assert actor_warehouse.scalar("SELECT 1") == 1


def test_a_verified_insert_through_the_actor(actor_warehouse, ray_session, project) -> None:  # type: ignore[no-untyped-def]
    """Writers call the actor's insert_arrow directly with ``verify`` (Ray does not retry it:
    a resent token is the writer's to verify)."""
    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR

    from ._suite import inference_rows, raw_count

    handle = ray_session.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE)
    rows = inference_rows(project, 9)
    ray_session.get(handle.insert_arrow.remote("inference_logs", rows, "t-verify"))
    actor_warehouse.command(f"DELETE FROM inference_logs WHERE project = '{project}'")
    ray_session.get(handle.insert_arrow.remote("inference_logs", rows, "t-verify", True))
    assert raw_count(actor_warehouse, project, final=False) == 9
