"""A small region/registry seed and a stand-in for the verdict service, for the web tests only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, select

from smecluster.accounts.passwords import use_fast_hashing_for_tests
from smecluster.db import session_scope
from smecluster.registry.models import Cluster, ClusterMember, Enterprise, Industry, Region

REGIONS = [
    ("320000", "江苏省", "province", None),
    ("320500", "苏州市", "city", "320000"),
    ("320581", "常熟市", "county", "320500"),
    ("320582", "张家港市", "county", "320500"),
    ("320300", "徐州市", "city", "320000"),
    ("320312", "铜山区", "county", "320300"),
]
use_fast_hashing_for_tests()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    """A module-wide database URL: a SQLite file, then a fresh PostgreSQL schema (as conftest's fixture)."""
    from conftest import drop_pg_schema, pg_schema_url, require_pg

    if request.param == "sqlite":
        yield request.param, f"sqlite:///{tmp_path_factory.mktemp('db') / 'demo.db'}"
        return
    require_pg()
    schema, url = pg_schema_url()
    yield request.param, url
    from smecluster.db import get_engine

    get_engine(url).dispose()
    drop_pg_schema(schema)


USCC = ["91320581MA1TEXT01X", "91320581MA1TEXT02X", "91320312MA1TEXT03X"]


@dataclass
class FakeCriterion:
    """Same fields as smecluster.policy.verdict.CriterionResult."""

    id: str
    title: str
    clause: str
    source: str
    status: str
    value: Any
    threshold: Any
    comparator: str | None
    unit: str
    gap: str
    gap_zh: str
    verified: bool = True
    soft: bool = False
    role: str = "condition"
    declared: Any = None
    discrepancy: bool = False
    children: list[FakeCriterion] = field(default_factory=list)


@dataclass
class FakeVerdict:
    """Same fields as smecluster.policy.verdict.Verdict."""

    cluster: dict
    policy: dict
    year: int
    outcome: str
    needs_review: bool
    criteria: list[FakeCriterion]

    def to_dict(self) -> dict:
        """Plain data, like the real Verdict.to_dict."""
        return asdict(self)


def seed(engine: Engine) -> dict[str, int]:
    """Regions, two industries, three enterprises and two clusters (Changshu, Tongshan)."""
    with session_scope(engine) as s:
        s.add_all(Region(code=c, name=n, level=lv, parent_code=p) for c, n, lv, p in REGIONS)
        s.flush()
        s.add_all(
            [
                Industry(code="C", name="制造业", level=1, parent=None, section="C"),
                Industry(code="26", name="化学原料和化学制品制造业", level=2, parent="C", section="C"),
                Industry(code="2614", name="有机化学原料制造", level=4, parent="26", section="C"),
            ]
        )
        s.flush()
        s.add_all(
            Enterprise(uscc=u, name=f"测试企业{i}", county_code=u[2:8], industry_code="2614", fictional=True)
            for i, u in enumerate(USCC)
        )
        s.flush()
        a = Cluster(
            code="CS-FLUORINE",
            name="常熟市电子氟材料产业集群",
            county_code="320581",
            leading_industries=["2614"],
            declared={},
            status="recognised",  # registry clusters already recognised: public
            year=2023,
            fictional=True,
        )
        b = Cluster(
            code="TS-SAFETY",
            name="徐州市铜山区安全应急产业集群",
            county_code="320312",
            leading_industries=["2614"],
            declared={},
            status="recognised",  # registry clusters already recognised: public
            year=2023,
            fictional=True,
        )
        s.add_all([a, b])
        s.flush()
        s.add_all(
            [ClusterMember(cluster_id=a.id, uscc=USCC[0]), ClusterMember(cluster_id=b.id, uscc=USCC[2])]
        )
        return {"changshu": a.id, "tongshan": b.id}


def fake_evaluate(
    engine: Engine, policy: str | None = None, year: int | None = None, cluster_ids: list[int] | None = None
) -> list[FakeVerdict]:
    """Verdicts of every cluster: Changshu recognised, every other cluster failing cloud adoption."""
    with session_scope(engine) as s:
        rows = s.execute(select(Cluster, Region.name).join(Region, Region.code == Cluster.county_code)).all()
        out = []
        for c, county in rows:
            ok = c.code == "CS-FLUORINE"
            cloud = FakeCriterion(
                "J7",
                "上云比例",
                "集群内企业上云比例不低于30%",
                "article",
                "pass" if ok else "fail",
                0.35 if ok else 0.24,
                0.30,
                ">=",
                "ratio",
                "" if ok else "cloud adoption 24% -> 30%: 9 more enterprises",
                "" if ok else "上云比例 24% -> 30%：还需 9 家企业上云",
            )
            pillar = FakeCriterion(
                "J3a",
                "主导产业占县域工业产值比重",
                "对地方经济贡献较大",
                "article",
                "pass",
                0.12,
                0.10,
                ">=",
                "ratio",
                "",
                "",
                verified=False,
                declared=0.20,
                discrepancy=True,
            )
            parent = FakeCriterion(
                "J3",
                "主导产业为县域支柱产业",
                "主导产业为县域支柱产业或特色产业",
                "article",
                "pass",
                None,
                None,
                None,
                "",
                "",
                "",
                children=[pillar],
            )
            out.append(
                FakeVerdict(
                    cluster={
                        "id": c.id,
                        "code": c.code,
                        "name": c.name,
                        "county_code": c.county_code,
                        "county_name": county,
                        "leading_industries": list(c.leading_industries),
                    },
                    policy={"id": "jiangsu-cluster-2023", "version": "2023.1", "title": "江苏省认定条件",
                            "effective_from": "2023-03-31"},
                    year=2023,
                    outcome="recognised" if ok else "not_recognised",
                    needs_review=False,
                    criteria=[parent, cloud],
                )
            )
        if cluster_ids is not None:
            out = [v for v in out if v.cluster["id"] in cluster_ids]
        return out


PASSWORD = "Correct-Horse-42"
# username -> (role, region or uscc); "a" accounts are in Suzhou/Changshu, "b" in Xuzhou/Tongshan
USERS = {
    "province": ("province_admin", "320000"),
    "city_a": ("city_reviewer", "320500"),
    "county_a": ("county_applicant", "320581"),
    "city_b": ("city_reviewer", "320300"),
    "county_b": ("county_applicant", "320312"),
    "expert": ("expert", "320000"),
    "ministry": ("ministry", None),
    "firm_a": ("enterprise_user", USCC[0]),
    "sysadmin": ("system_admin", None),
    "secadmin": ("security_admin", None),
    "auditor": ("audit_admin", None),
}


def make_users(engine: Engine) -> None:
    """One account per role (two counties and two cities), all with PASSWORD."""
    from smecluster.accounts.users import add_user

    with session_scope(engine) as s:
        for name, (role, scope) in USERS.items():
            if role == "enterprise_user":
                add_user(s, name, PASSWORD, role, uscc=scope, display_name=name)
            else:
                add_user(s, name, PASSWORD, role, region_code=scope, display_name=name)


def csrf_of(client) -> str:
    """The CSRF token the current session's forms carry."""
    import re

    page = client.get("/login") if "sid" not in client.cookies else client.get("/account/password")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log a test client in; returns the login response."""
    client.cookies.clear()
    token = csrf_of(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def demo_url(database):
    """A module-wide small demo registry (located firms, designations, clusters) with one account per role
    and `firm_demo`, the enterprise account of a Changshu demo firm."""
    from smecluster.accounts.users import add_user
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo

    _, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    make_users(engine)
    with session_scope(engine) as s:
        firm = s.scalar(select(Enterprise.uscc).where(Enterprise.county_code == "320581").order_by(Enterprise.uscc))
        add_user(s, "firm_demo", PASSWORD, "enterprise_user", uscc=firm, display_name="firm_demo")
    return url
