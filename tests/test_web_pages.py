"""The free diagnosis, targets and discovery pages over a small demo registry."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_fakes import database, demo_url, fake_evaluate, login  # noqa: F401 (fixtures)

from smecluster.db import open_database, session_scope
from smecluster.registry.models import Cluster, ClusterMember, Enterprise
from smecluster.services.diagnosis import diagnose
from smecluster.services.geography import discover_candidates
from smecluster.services.targets import targets_pack
from smecluster.services.tiers import evaluate_enterprises, summary
from smecluster.web import insight
from smecluster.web.app import WebSettings, create_app
from smecluster.web.page_cache import ComputedCache


@pytest.fixture(scope="module")
def app(demo_url, tmp_path_factory):  # noqa: F811
    """One app over the demo registry for the module (its caches shared by the tests)."""
    settings = WebSettings(evidence_dir=tmp_path_factory.mktemp("ev"))
    return create_app(demo_url, evaluate=fake_evaluate, settings=settings)


def client_as(app, username: str | None) -> TestClient:
    """A client logged in as `username` (anonymous for None)."""
    c = TestClient(app, base_url="https://testserver")
    if username:
        assert login(c, username).status_code == 303
    return c


def firm_of(app, username: str = "firm_demo") -> str:
    """The credit code of the enterprise account."""
    from smecluster.accounts.models import Account

    with session_scope(app.state.engine) as s:
        return s.scalar(select(Account.uscc).where(Account.username == username))


def page_data(html: str) -> dict:
    """The JSON block a chart page embeds for its script."""
    return json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1))


# free diagnosis


def test_enterprise_diagnosis_lists_the_next_tiers_gaps(app):
    """The firm's own diagnosis page shows exactly the criteria the diagnosis service says it lacks."""
    uscc = firm_of(app)
    html = client_as(app, "firm_demo").get(f"/enterprises/{uscc}/diagnosis").text
    d = diagnose(app.state.engine, uscc)
    shown = re.findall(r'<tr class="gap" data-criterion="([^"]+)"', html)
    assert shown and shown == [g["id"] for g in (d["next"] or {"gaps": []})["gaps"]]


def test_diagnosis_shows_every_tier(app):
    """Each tier the service judged has a row in the summary table."""
    uscc = firm_of(app)
    html = client_as(app, "county_a").get(f"/enterprises/{uscc}/diagnosis").text
    assert re.findall(r'data-tier="([^"]+)"', html) == [t["tier"] for t in diagnose(app.state.engine, uscc)["tiers"]]


def test_diagnosis_in_english_uses_english_tier_names(app):
    """With ?lang=en the tier names are the English labels of the tier catalogue."""
    uscc = firm_of(app)
    d = diagnose(app.state.engine, uscc)
    html = client_as(app, "province").get(f"/enterprises/{uscc}/diagnosis?lang=en").text
    assert all(t["label_en"] in html for t in d["tiers"])


def test_diagnosis_page_shows_the_pack_by_year_and_kind(app):
    """The newest demo year is judged by the 2026 packs, the year before by the 2022 ones; a re-review
    of a little giant still takes the 2022 pack; each row says why its pack applies."""
    uscc = firm_of(app)
    client = client_as(app, "province")
    newest = diagnose(app.state.engine, uscc)["year"]

    def packs(query: str) -> dict[str, str]:
        html = client.get(f"/enterprises/{uscc}/diagnosis{query}&lang=en").text
        rows = re.findall(r'<tr data-tier="([^"]+)">.*?<div class="clause">([a-z0-9-]+),', html, re.S)
        assert html.count('class="clause pack-reason"') == len(rows) == 4
        return dict(rows)

    assert packs("?kind=new")["srdi_sme"] == "srdi-sme-2026"
    assert packs(f"?year={newest - 1}&kind=new")["srdi_sme"] == "srdi-sme-2022"
    assert packs("?kind=review")["little_giant"] == "little-giant-2022"
    assert "科技和创新型中小企业" in client.get(f"/enterprises/{uscc}/diagnosis?lang=zh").text
    assert client.get(f"/enterprises/{uscc}/diagnosis?kind=other").status_code == 422


def test_enterprise_cannot_diagnose_another_firm(app):
    """An enterprise account asking for another firm's diagnosis gets 404, as for an unknown code."""
    with session_scope(app.state.engine) as s:
        other = s.scalar(select(Enterprise.uscc).where(Enterprise.uscc != firm_of(app)).limit(1))
    assert client_as(app, "firm_demo").get(f"/enterprises/{other}/diagnosis").status_code == 404


def test_enterprise_page_links_to_its_diagnosis(app):
    """The /enterprise page links to the firm's own diagnosis."""
    html = client_as(app, "firm_demo").get("/enterprise").text
    assert f'href="/enterprises/{firm_of(app)}/diagnosis"' in html


def test_cluster_members_link_to_diagnosis_in_scope_only(app):
    """A Changshu cluster's members link to their diagnosis for Changshu's county account, not for anonymous."""
    with session_scope(app.state.engine) as s:
        cluster_id = s.scalar(
            select(Cluster.id).join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
            .join(Enterprise, Enterprise.uscc == ClusterMember.uscc).where(Enterprise.county_code == "320581").limit(1)
        )
    assert 'class="diagnosis-link"' in client_as(app, "county_a").get(f"/clusters/{cluster_id}").text
    assert 'class="diagnosis-link"' not in client_as(app, None).get(f"/clusters/{cluster_id}").text


# targets


def test_targets_page_lists_every_target_of_the_pack(app):
    """The province's targets table has one row per target of the targets pack."""
    html = client_as(app, "province").get("/targets").text
    assert re.findall(r'<tr data-target="([^"]+)"', html) == [t.id for t in targets_pack().targets]


def test_city_targets_map_only_its_counties(app):
    """Suzhou's bureau gets county figures of Suzhou's counties only."""
    data = page_data(client_as(app, "city_a").get("/targets").text)
    codes = {c["name"] for t in data["targets"] for c in t["counties"]}
    assert codes and all(c.startswith("3205") for c in codes)


def test_targets_funnel_counts_designated_firms(app):
    """The province's funnel shows the designated firms per tier that the tier service counts."""
    funnel = page_data(client_as(app, "province").get("/targets").text)["funnel"]
    s = summary(evaluate_enterprises(app.state.engine))
    assert [d["value"] for d in funnel["series"][0]["data"]] == s["designated"].to_list()


# discovery


def test_discover_lists_every_candidate_for_the_province(app):
    """The province's table lists the candidates discovery finds, each with its conditions met."""
    html = client_as(app, "province").get("/discover").text
    found = discover_candidates(app.state.engine)
    assert sorted(int(x) for x in re.findall(r'<tr data-candidate="(\d+)"', html)) == sorted(found["candidate"])
    first = found.row(0, named=True)
    assert f"满足 {first['conditions_met']}/{first['conditions']} 项" in html


def test_county_discover_shows_only_its_candidates(app):
    """Tongshan's county account sees only candidates whose county is Tongshan."""
    data = page_data(client_as(app, "county_b").get("/discover").text)
    found = discover_candidates(app.state.engine).filter(pl.col("county_code") == "320312")
    assert found.height and [f["properties"]["candidate"] for f in data["features"]] == found["candidate"].to_list()


def test_discover_industry_filter(app):
    """?industry= keeps the candidates of that industry only."""
    data = page_data(client_as(app, "province").get("/discover?industry=35").text)
    assert data["features"] and {f["properties"]["industry"] for f in data["features"]} == {"35"}


def test_discovery_runs_once_per_app(demo_url, tmp_path, monkeypatch):  # noqa: F811
    """Two requests for the discovery page run discovery once."""
    calls = []
    real = insight.discover_candidates
    monkeypatch.setattr(insight, "discover_candidates", lambda *a, **k: calls.append(1) or real(*a, **k))
    app = create_app(demo_url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    c = client_as(app, "province")
    assert c.get("/discover").status_code == 200 and c.get("/discover").status_code == 200
    assert len(calls) == 1


def test_computed_cache_recomputes_after_ttl():
    """A value older than the cache's ttl is computed again."""
    calls = []
    cache = ComputedCache(lambda key: calls.append(key) or len(calls), ttl=0.0)
    assert cache.get("a") == 1 and cache.get("a") == 2


def test_diagnosis_without_yearly_figures_says_so(tmp_path):
    """A firm with no yearly figures gets a page saying it cannot be diagnosed yet, not an error."""
    from web_fakes import USCC, make_users, seed

    url = f"sqlite:///{tmp_path / 'n.db'}"
    engine = open_database(url)
    seed(engine)
    make_users(engine)
    app = create_app(url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    r = client_as(app, "firm_a").get(f"/enterprises/{USCC[0]}/diagnosis")
    assert r.status_code == 200 and 'id="diagnosis-no-data"' in r.text


def test_targets_recount_after_a_workflow_change(demo_url, tmp_path):  # noqa: F811
    """A change to a cluster (as after a workflow action) makes the next targets page compute again."""
    from smecluster.web.verdicts import refresh_cluster

    app = create_app(demo_url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    first = app.state.insight.targets.get("all")
    with session_scope(app.state.engine) as s:
        cluster_id = s.scalar(select(Cluster.id).limit(1))
    refresh_cluster(app, cluster_id)
    assert app.state.insight.targets.get("all") is not first


# independently computed values (not the services' own output)


def _cell_after(html: str, label: str) -> str:
    """The <dd> that follows the <dt> of `label` on the diagnosis page."""
    return re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", html).group(1)


def test_diagnosis_page_facts_from_the_registry(app):
    """Credit code, county and data year on the page are the firm's stored row and the registry's newest year,
    read straight from the tables; the tiers run up the ladder of the 2022 Measures in order."""
    from sqlalchemy import func

    from smecluster.registry.models import EnterpriseYear

    uscc = firm_of(app)
    with session_scope(app.state.engine) as s:
        county = s.scalar(select(Enterprise.county_code).where(Enterprise.uscc == uscc))
        newest = s.scalar(select(func.max(EnterpriseYear.year)))
    html = client_as(app, "firm_demo").get(f"/enterprises/{uscc}/diagnosis?lang=en").text
    assert (_cell_after(html, "Credit code"), _cell_after(html, "County")) == (uscc, county)
    assert _cell_after(html, "Data year") == str(newest)
    tiers = re.findall(r'data-tier="([^"]+)"', html)
    ladder = ["innovative_sme", "srdi_sme", "little_giant"]  # 创新型 → 专精特新 → 小巨人 (POLICY.md 3)
    assert tiers[:3] == ladder


def test_targets_page_cluster_count_from_the_cluster_table(app):
    """The 'now' figure of T-CLUSTERS is the count of clusters recognised (or under re-review) in the province
    from 2021 up to the data year, counted here from the cluster table."""
    from smecluster.registry.models import Cluster as C

    html = client_as(app, "province").get("/targets?lang=en").text
    year = int(re.search(r"data up to (\d{4})", html).group(1))
    with session_scope(app.state.engine) as s:
        rows = s.execute(select(C.status, C.year, C.county_code)).all()
    expected = sum(st in ("recognised", "re_review") and y is not None and 2021 <= y <= year and cc.startswith("32")
                   for st, y, cc in rows)
    row = re.search(r'<tr data-target="T-CLUSTERS">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[1] == f"{expected:,}"  # goal, now, share, projection


def test_discover_page_location_quotient_by_hand(app):
    """Each candidate's LQ (firms) is (county's firms of the industry / county's firms) over the province's
    same share, counted here from the enterprise table."""
    with session_scope(app.state.engine) as s:
        firms = s.execute(select(Enterprise.county_code, Enterprise.industry_code)).all()
    html = client_as(app, "province").get("/discover").text
    found = discover_candidates(app.state.engine)
    assert found.height
    checked = 0
    for cand in found.iter_rows(named=True):
        county, ind = cand["county_code"], cand["industry"]
        in_county = [i for c, i in firms if c == county]
        share_county = sum(i.startswith(ind) for i in in_county) / len(in_county)
        share_province = sum(i.startswith(ind) for _, i in firms) / len(firms)
        row = re.search(rf'<tr data-candidate="{cand["candidate"]}">(.*?)</tr>', html, re.S).group(1)
        nums = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert nums[2] == f"{share_county / share_province:.2f}"  # members, area, LQ (firms), SRDI, high-tech
        checked += 1
    assert checked == found.height


# JSON twins of the three pages


def test_api_targets_is_the_pages_table_cut_to_the_region(app):
    """/api/targets lists the pack's targets as the page does; a city's regional split holds its counties only."""
    data = client_as(app, "province").get("/api/targets").json()
    assert [t["id"] for t in data["targets"]] == [t.id for t in targets_pack().targets]
    city = client_as(app, "city_a").get("/api/targets").json()
    assert city["prefix"] == "3205" and all(r["code"].startswith("3205") for t in city["targets"]
                                             for r in t["counties"])


def test_api_discover_keeps_the_viewers_candidates(app):
    """The county's GeoJSON holds only candidates in the county; the province's holds them all."""
    everything = client_as(app, "province").get("/api/discover").json()["features"]
    mine = client_as(app, "county_a").get("/api/discover").json()["features"]
    assert everything and {f["properties"]["county_code"] for f in mine} <= {"320581"}
    assert len(mine) == sum(f["properties"]["county_code"] == "320581" for f in everything)


def test_api_diagnosis_equals_the_service_and_hides_other_firms(app):
    """The firm's JSON diagnosis is the service's; another firm's code answers 404 as an unknown one."""
    uscc = firm_of(app)
    got = client_as(app, "firm_demo").get(f"/api/enterprises/{uscc}/diagnosis").json()
    want = diagnose(app.state.engine, uscc)
    assert got["uscc"] == uscc and got["diagnosis"]["current_tier"] == want["current_tier"]
    assert [t["tier"] for t in got["diagnosis"]["tiers"]] == [t["tier"] for t in want["tiers"]]
    assert client_as(app, "firm_demo").get(f"/api/enterprises/{_another_firm(app)}/diagnosis").status_code == 404


def _another_firm(app) -> str:
    with session_scope(app.state.engine) as s:
        return s.scalar(select(Enterprise.uscc).where(Enterprise.uscc != firm_of(app)).limit(1))


RAW_CODES = ("innovative_sme", "srdi_sme", "little_giant", "single_champion", "high_tech", "not_recognised",
             "insufficient_data", "does_not_qualify")


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_chinese_cluster_page_names_tiers_and_industries_never_codes(app):
    """The member table says 企业名称 and each title's Chinese name (专精特新...); the leading industry and
    the members' classes show their GB/T 4754 names beside the codes; no raw tier or outcome code shows."""
    from smecluster.registry.models import Designation, Industry

    with session_scope(app.state.engine) as s:
        cid, leading = s.execute(select(Cluster.id, Cluster.leading_industries)
                                 .where(Cluster.code.like("%fluor%"))).first()
        held = set(s.scalars(select(Designation.kind).join(ClusterMember, ClusterMember.uscc == Designation.uscc)
                             .where(ClusterMember.cluster_id == cid)))
        lead_name = s.scalar(select(Industry.name).where(Industry.code == leading[0]))
    html = client_as(app, "county_a").get(f"/clusters/{cid}").text
    text = _visible_text(html)
    assert "企业名称" in text
    assert [c for c in RAW_CODES if re.search(rf"\b{c}\b", text)] == []
    names = {"srdi_sme": "专精特新中小企业", "high_tech": "高新技术企业"}  # from the policy texts, by hand
    assert held & set(names) and all(names[k] in text for k in held & set(names))
    assert lead_name and f"{leading[0]} {lead_name}" in text
