"""The warehouse actor: every process shares the embedded chDB through it (real Ray)."""

from __future__ import annotations

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
