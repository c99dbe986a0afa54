"""docs/web.md lists every route of the app, so the route table in the docs cannot drift."""

from __future__ import annotations

from pathlib import Path

from smecluster.web.app import create_app
from smecluster.web.routing_table import route_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "web.md"


def test_every_route_is_documented(tmp_path):
    """Each (method, path) of the app has a row `| METHOD | `path` |` in docs/web.md."""
    text = DOC.read_text(encoding="utf-8")
    app = create_app(f"sqlite:///{tmp_path / 'd.db'}", evaluate=lambda engine: [])
    missing = [f"{m} {p}" for m, p in route_table(app) if f"| {m} | `{p}` |" not in text]
    assert not missing, missing
