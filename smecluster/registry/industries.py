"""GB/T 4754-2017 industry codes: the shipped table (sections, divisions, demo groups and classes)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import Engine

from smecluster.registry.models import Industry
from smecluster.registry.upsert import upsert

SHIPPED = Path(__file__).with_name("industries.yaml")


@lru_cache(maxsize=1)
def _shipped_rows() -> tuple[tuple, ...]:
    # libyaml's parser where installed: the pure-Python one takes about 0.4 s for this file
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    return tuple(tuple(row) for row in raw["industries"])


def shipped_industries() -> list[dict]:
    """Rows of the shipped table: code, name, level, parent, section (a new list: callers may change it)."""
    keys = ("code", "name", "level", "parent", "section")
    return [dict(zip(keys, row, strict=True)) for row in _shipped_rows()]


def load_shipped_industries(engine: Engine) -> int:
    """Insert or update the shipped industry codes; codes already loaded from a full table stay."""
    rows = shipped_industries()
    with engine.begin() as conn:
        upsert(conn, Industry.__table__, rows, ["code"])
    return len(rows)
