"""Helpers for the import tests: a registry database with a few regions and industries, snapshots."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, insert, select, text

from smecluster.db import open_database
from smecluster.registry.models import Industry, Region
from smecluster.registry.uscc import make_uscc_one

TABLES = (
    "region",
    "industry",
    "enterprise",
    "enterprise_year",
    "designation",
    "platform",
    "cluster",
    "cluster_member",
)
REGIONS = [
    {"code": "320000", "name": "江苏省", "level": "province", "parent_code": None},
    {"code": "320400", "name": "常州市", "level": "city", "parent_code": "320000"},
    {"code": "320481", "name": "溧阳市", "level": "county", "parent_code": "320400"},
    {"code": "320500", "name": "苏州市", "level": "city", "parent_code": "320000"},
    {"code": "320581", "name": "常熟市", "level": "county", "parent_code": "320500"},
]
INDUSTRIES = [
    {"code": "C", "name": "制造业", "level": 1, "parent": None, "section": "C"},
    {"code": "38", "name": "电气机械和器材制造业", "level": 2, "parent": "C", "section": "C"},
    {"code": "384", "name": "电池制造", "level": 3, "parent": "38", "section": "C"},
    {"code": "3841", "name": "锂离子电池制造", "level": 4, "parent": "384", "section": "C"},
    {"code": "3849", "name": "其他电池制造", "level": 4, "parent": "384", "section": "C"},
]
# Valid credit codes (check digits computed, not copied).
CODE_A = make_uscc_one("91320481MA1P0000" + "1")
CODE_B = make_uscc_one("91320481MA1P0000" + "2")
CODE_C = make_uscc_one("91320581MA1P0000" + "3")
ENTERPRISE_HEADERS = ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码", "经度", "纬度", "成立日期"]


def registry_engine(url: str) -> Engine:
    """A migrated database holding the test regions and industries."""
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(insert(Region), REGIONS)
        conn.execute(insert(Industry), INDUSTRIES)
    return engine


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    """A CSV file with a header row, in the given encoding."""
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def good_enterprises(path: Path) -> Path:
    """Three valid enterprises in two counties."""
    return write_csv(
        path,
        ENTERPRISE_HEADERS,
        [
            [CODE_A, "溧阳电池甲有限公司", "320481", "3841", "119.48", "31.42", "2015-03-01"],
            [CODE_B, "溧阳电池乙有限公司", "320481", "3849", "", "", ""],
            [CODE_C, "常熟材料丙有限公司", "320581", "3841", "120.75", "31.65", "2010/6/1"],
        ],
    )


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every registry table, sorted: two equal snapshots mean nothing changed."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table}")).fetchall()
            out[table] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def count(engine: Engine, model) -> int:
    """Rows in a table."""
    with engine.connect() as conn:
        return len(conn.execute(select(model)).fetchall())


def firm_frame(*codes: str) -> pl.DataFrame:
    """Firms to bulk-load: one per credit code, all in 320481, class 3841, fictional."""
    return pl.DataFrame({"uscc": list(codes), "name": [f"企业{i}" for i in range(len(codes))],
                         "county_code": ["320481"] * len(codes), "industry_code": ["3841"] * len(codes),
                         "fictional": [True] * len(codes)})


def year_frame(*codes: str) -> pl.DataFrame:
    """Each firm's 2024 and 2025 rows to bulk-load (revenue 100 then 120; on the cloud in 2024 only)."""
    return pl.DataFrame({"uscc": [c for c in codes for _ in (2024, 2025)], "year": [2024, 2025] * len(codes),
                         "revenue": [100.0, 120.0] * len(codes), "cloud": [True, False] * len(codes)})
