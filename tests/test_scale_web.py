"""Heavy web requests run a few at a time and answer 503 (never a crash) when they cannot be served."""

from __future__ import annotations

import threading

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from web_fakes import USCC, fake_evaluate, login, make_users, seed

from smecluster.db import open_database
from smecluster.web.app import WebSettings, create_app
from smecluster.web.heavy import HeavyWork


@pytest.fixture
def province(database_url, tmp_path):
    """A client logged in as the province account."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    app = create_app(database_url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    c = TestClient(app, base_url="https://testserver")
    assert login(c, "province").status_code == 303
    return c, app


@pytest.mark.parametrize("path", [f"/enterprises/{USCC[0]}/diagnosis", "/targets", "/discover"])
def test_heavy_page_busy_answers_503(province, path):
    """With every slot taken, a heavy page answers 503 with Retry-After; once a slot frees, it is served."""
    c, app = province
    app.state.heavy = HeavyWork(limit=1, wait=0.05)
    with app.state.heavy.slot():
        r = c.get(path)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert c.get(path).status_code == 200


def test_out_of_memory_answers_503(province, monkeypatch):
    """A diagnosis that runs out of memory answers 503 and frees its slot; the server keeps serving."""
    c, app = province
    app.state.heavy = HeavyWork(limit=1, wait=0.05)

    def no_memory(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr("smecluster.web.routes.diagnosis.diagnose", no_memory)
    r = c.get(f"/enterprises/{USCC[0]}/diagnosis")
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert c.get("/targets").status_code == 200  # the slot was given back


def test_slots_bound_concurrency():
    """No more than `limit` blocks run at once; a waiter gets the slot when one is released."""
    heavy = HeavyWork(limit=2, wait=2.0)
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def work():
        with heavy.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            release.wait(1.0)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert peak[0] == 2
    quick = HeavyWork(limit=1, wait=0.01)
    with quick.slot(), pytest.raises(HTTPException) as busy, quick.slot():
        pass
    assert busy.value.status_code == 503
