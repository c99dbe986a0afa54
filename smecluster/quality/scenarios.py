"""Data-quality scenarios an analyst can write: a few firms, their figures, which ones a check flags.

A file (YAML) has `cases`; a case: name, check (id), firms ({label: {county, industry, name, years:
{YEAR: {figure: value}}, profile: {YEAR: {main_revenue: value}}}}), clusters ([{code, county, members:
[labels]}]), platforms ({label: {name, level, county}}) and `flagged`: the labels (firms or platforms) the
check must flag, no more and no fewer. Each case runs on the registry emptied and filled with its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, delete, insert

from smecluster.yamlio import safe_load

COUNTY = "320481"  # 溧阳市
REGIONS = [
    {"code": "320000", "name": "江苏省", "level": "province", "parent_code": None},
    {"code": "320400", "name": "常州市", "level": "city", "parent_code": "320000"},
    {"code": COUNTY, "name": "溧阳市", "level": "county", "parent_code": "320400"},
    {"code": "320412", "name": "武进区", "level": "county", "parent_code": "320400"},
]
INDUSTRIES = [
    {"code": "C", "name": "制造业", "level": 1, "parent": None, "section": "C"},
    {"code": "38", "name": "电气机械和器材制造业", "level": 2, "parent": "C", "section": "C"},
    {"code": "384", "name": "电池制造", "level": 3, "parent": "38", "section": "C"},
    {"code": "3841", "name": "锂离子电池制造", "level": 4, "parent": "384", "section": "C"},
    {"code": "34", "name": "通用设备制造业", "level": 2, "parent": "C", "section": "C"},
    {"code": "348", "name": "通用零部件制造", "level": 3, "parent": "34", "section": "C"},
    {"code": "3484", "name": "机械零部件加工", "level": 4, "parent": "348", "section": "C"},
]


@dataclass
class Outcome:
    """One case: the labels expected flagged and those the check flagged."""

    case: str
    check: str
    expected: set[str]
    got: set[str]

    @property
    def ok(self) -> bool:
        """Whether the check flagged exactly the expected labels."""
        return self.expected == self.got


def seed_reference(engine: Engine) -> None:
    """The regions and industries the scenarios use."""
    from smecluster.registry.models import Industry, Region

    with engine.begin() as conn:
        conn.execute(insert(Region), REGIONS)
        conn.execute(insert(Industry), INDUSTRIES)


def load_case_rows(engine: Engine, case: dict) -> tuple[dict[str, str], dict[int, str]]:
    """Empty the registry and store the case's rows; returns label -> credit code, platform id -> label."""
    from smecluster.demo.generator import make_codes
    from smecluster.registry.models import (
        Cluster,
        ClusterMember,
        Enterprise,
        EnterpriseYear,
        Platform,
    )
    from smecluster.registry.profile import EnterpriseProfile

    firms = case.get("firms") or {}
    labels = list(firms)
    counties = [str(firms[k].get("county", COUNTY)) for k in labels]
    codes = dict(zip(labels, make_codes(np.array(counties), np.arange(1, len(labels) + 1)), strict=True))
    platform_ids: dict[int, str] = {}
    with engine.begin() as conn:
        for model in (ClusterMember, Platform, Cluster, EnterpriseProfile, EnterpriseYear, Enterprise):
            conn.execute(delete(model))
        if labels:
            conn.execute(insert(Enterprise), [
                {"uscc": codes[k], "name": f.get("name", f"测试企业{k}"), "county_code": str(f.get("county", COUNTY)),
                 "industry_code": str(f.get("industry", "3841")), "fictional": True}
                for k, f in firms.items()
            ])
        years = [{"uscc": codes[k], "year": int(y), **values}
                 for k, f in firms.items() for y, values in (f.get("years") or {}).items()]
        if years:
            columns = sorted({c for r in years for c in r})
            conn.execute(insert(EnterpriseYear), [{c: r.get(c) for c in columns} for r in years])
        profiles = [{"uscc": codes[k], "year": int(y), **values}
                    for k, f in firms.items() for y, values in (f.get("profile") or {}).items()]
        if profiles:
            conn.execute(insert(EnterpriseProfile), profiles)
        for i, c in enumerate(case.get("clusters") or [], start=1):
            conn.execute(insert(Cluster), [{"id": i, "code": c["code"], "name": c["code"],
                                            "county_code": str(c.get("county", COUNTY)), "leading_industries": ["384"],
                                            "declared": {}, "status": "submitted", "year": 2025, "fictional": True}])
            conn.execute(insert(ClusterMember), [{"cluster_id": i, "uscc": codes[m]} for m in c["members"]])
        for i, (label, p) in enumerate((case.get("platforms") or {}).items(), start=1):
            conn.execute(insert(Platform), [{"id": i, "name": p["name"], "level": p.get("level", "provincial"),
                                             "type": "工程技术研究中心", "county_code": str(p.get("county", COUNTY)),
                                             "host_uscc": None, "cluster_id": None, "year": 2024}])
            platform_ids[i] = label
    return codes, platform_ids


def run_case(engine: Engine, case: dict) -> Outcome:
    """Store the case's rows, run every check and compare what its check flagged with `flagged`."""
    import polars as pl

    from smecluster.services.quality import quality_report

    codes, platforms = load_case_rows(engine, case)
    by_code = {v: k for k, v in codes.items()}
    found = quality_report(engine).findings.filter(pl.col("check") == case["check"])
    got = {by_code[u] for u in found["uscc"].drop_nulls().to_list()}
    got |= {platforms[int(p)] for p in found["platform_id"].drop_nulls().to_list()}
    return Outcome(case["name"], case["check"], set(case.get("flagged") or []), got)


def run_scenario_file(engine: Engine, path: Path | str) -> list[Outcome]:
    """Every case of a file against an empty, migrated database (reference rows are added)."""
    seed_reference(engine)
    data = safe_load(Path(path).read_text(encoding="utf-8"))
    return [run_case(engine, case) for case in data["cases"]]
