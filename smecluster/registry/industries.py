"""GB/T 4754-2017 industry codes: the shipped table (sections, divisions, demo groups and classes)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import Engine

from smecluster.registry.models import Industry
from smecluster.registry.upsert import upsert

SHIPPED = Path(__file__).with_name("industries.yaml")


KEYS = ("code", "name", "level", "parent", "section")


@lru_cache(maxsize=1)
def _shipped_yaml() -> dict:
    # libyaml's parser where installed: the pure-Python one takes about 0.4 s for this file
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    return {"industries": tuple(tuple(r) for r in raw["industries"]),
            "chains": tuple(tuple(r) for r in raw.get("chains", []))}


def shipped_industries() -> list[dict]:
    """Rows of the shipped table: code, name, level, parent, section (the demo's codes and the chain
    maps' codes; a new list: callers may change it)."""
    raw = _shipped_yaml()
    return [dict(zip(KEYS, row, strict=True)) for row in raw["industries"] + raw["chains"]]


def demo_industries() -> list[dict]:
    """The rows the demo draws its firms' classes from (without those added for the chain maps, so
    that the demo registry stays as it was)."""
    return [dict(zip(KEYS, row, strict=True)) for row in _shipped_yaml()["industries"]]


def load_shipped_industries(engine: Engine) -> int:
    """Insert or update the shipped industry codes; codes already loaded from a full table stay."""
    rows = shipped_industries()
    with engine.begin() as conn:
        upsert(conn, Industry.__table__, rows, ["code"])
    return len(rows)
