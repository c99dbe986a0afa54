"""Small registries built row by row for tests (two counties of Changzhou, a few industries)."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import Engine, insert

from smecluster.demo.generator import make_codes
from smecluster.registry.models import (
    Cluster,
    ClusterMember,
    Designation,
    Enterprise,
    EnterpriseYear,
    Industry,
    Platform,
    Region,
)

YEAR = 2025
COUNTY = "320481"  # 溧阳市
OTHER_COUNTY = "320412"  # 武进区

REGIONS = [
    {"code": "320000", "name": "江苏省", "level": "province", "parent_code": None},
    {"code": "320400", "name": "常州市", "level": "city", "parent_code": "320000"},
    {"code": COUNTY, "name": "溧阳市", "level": "county", "parent_code": "320400"},
    {"code": OTHER_COUNTY, "name": "武进区", "level": "county", "parent_code": "320400"},
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


def codes(n: int, county: str = COUNTY, start: int = 1) -> list[str]:
    """`n` valid credit codes registered in `county`."""
    return list(make_codes(np.full(n, county), np.arange(start, start + n)))


class RegistryBuilder:
    """Builds one cluster of `n` SME members in the leading industry 384, all data present."""

    def __init__(self, engine: Engine, members: int = 20) -> None:
        self.engine = engine
        self.members = codes(members)
        self.county = {u: COUNTY for u in self.members}
        self.rd = {u: [100.0, 110.0, 121.0, 133.1] for u in self.members}  # 10% a year, 2022-2025
        self.cloud = {u: True for u in self.members}
        self.designations: list[tuple[str, str]] = []
        self.platforms = 5
        self.declared: dict = {}
        self.boundary: str | None = None
        self.industry = {u: "3841" for u in self.members}
        self.location: dict[str, tuple[float, float]] = {}

    def build(self) -> int:
        """Store the registry; returns the cluster id."""
        n = len(self.members)
        with self.engine.begin() as conn:
            conn.execute(insert(Region), REGIONS)
            conn.execute(insert(Industry), INDUSTRIES)
            conn.execute(insert(Enterprise), [
                {"uscc": u, "name": f"测试企业{i}", "county_code": self.county[u], "industry_code": self.industry[u],
                 "lon": self.location.get(u, (None, None))[0], "lat": self.location.get(u, (None, None))[1],
                 "fictional": True}
                for i, u in enumerate(self.members)
            ])
            conn.execute(insert(EnterpriseYear), [
                {"uscc": u, "year": YEAR - 3 + k, "revenue": 5000.0, "output": 5000.0, "rd_spending": self.rd[u][k],
                 "employees": 100, "rd_staff": 10, "total_assets": 6000.0, "total_liabilities": 3000.0,
                 "cloud": self.cloud[u] if k == 3 else False, "industrial_internet": False}
                for u in self.members for k in range(4)
            ])
            if self.designations:
                conn.execute(insert(Designation), [
                    {"uscc": u, "kind": kind, "year": YEAR - 1, "valid_from": date(YEAR - 1, 1, 1),
                     "valid_until": date(YEAR + 1, 12, 31)}
                    for u, kind in self.designations
                ])
            conn.execute(insert(Cluster), [{
                "id": 1, "code": "test", "name": "测试集群", "county_code": COUNTY, "leading_industries": ["384"],
                "boundary_geojson": self.boundary, "declared": self.declared, "status": "submitted",
                "year": YEAR, "fictional": True,
            }])
            conn.execute(insert(ClusterMember), [{"cluster_id": 1, "uscc": u} for u in self.members])
            if self.platforms:
                conn.execute(insert(Platform), [
                    {"name": f"平台{i}", "level": "provincial", "type": "工程技术研究中心", "county_code": COUNTY,
                     "host_uscc": self.members[i % n], "cluster_id": None, "year": YEAR - 2}
                    for i in range(self.platforms)
                ])
        return 1

    def grow_rd(self, rate: float) -> None:
        """Every member's R&D grows by `rate` a year from 100."""
        self.rd = {u: [100.0 * (1 + rate) ** k for k in range(4)] for u in self.members}

    def on_cloud(self, k: int) -> None:
        """Exactly the first k members are on the cloud in the evaluation year."""
        self.cloud = {u: i < k for i, u in enumerate(self.members)}

    def designate(self, kind: str, k: int, offset: int = 0) -> None:
        """Give `kind` to k members starting at `offset`."""
        self.designations += [(u, kind) for u in self.members[offset:offset + k]]
