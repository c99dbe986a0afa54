"""GB/T 4754-2017 industry codes: the shipped table (sections, divisions, demo groups and classes)."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import Engine

from smecluster.registry.models import Industry
from smecluster.registry.upsert import upsert

SHIPPED = Path(__file__).with_name("industries.yaml")


def shipped_industries() -> list[dict]:
    """Rows of the shipped table: code, name, level, parent, section (the demo's codes and the chain
    maps' codes)."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    keys = ("code", "name", "level", "parent", "section")
    return [dict(zip(keys, row, strict=True)) for row in raw["industries"] + raw.get("chains", [])]


def demo_industries() -> list[dict]:
    """The rows the demo draws its firms' classes from (without those added for the chain maps, so
    that the demo registry stays as it was)."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    keys = ("code", "name", "level", "parent", "section")
    return [dict(zip(keys, row, strict=True)) for row in raw["industries"]]


def load_shipped_industries(engine: Engine) -> int:
    """Insert or update the shipped industry codes; codes already loaded from a full table stay."""
    rows = shipped_industries()
    with engine.begin() as conn:
        upsert(conn, Industry.__table__, rows, ["code"])
    return len(rows)
