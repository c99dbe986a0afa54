"""The what-if page and its JSON twin: region cut, saved scenarios audited, CSRF and roles enforced."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_fakes import PASSWORD, csrf_of, database, login  # noqa: F401  (database: a fixture)

from smecluster.accounts.users import add_user
from smecluster.db import open_database, session_scope
from smecluster.registry.models import Cluster
from smecluster.scenarios import SavedScenario
from smecluster.services.demo import build_demo
from smecluster.services.simulate import run_scenario
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.models import AuditEntry

PACK = "jiangsu-cluster-2023"
REFORM = "J5.threshold=10"  # ten provincial platforms instead of five: four demo clusters lose
ACCOUNTS = {"prov": ("province_admin", "320000"), "city_sz": ("city_reviewer", "320500"),
            "county_cs": ("county_applicant", "320581"), "county_ts": ("county_applicant", "320312")}


@pytest.fixture(scope="module")
def site(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo registry, one account per region level, the app."""
    _, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    with session_scope(engine) as s:
        for name, (role, region) in ACCOUNTS.items():
            add_user(s, name, PASSWORD, role, region_code=region, display_name=name)
    app = create_app(url, settings=WebSettings(evidence_dir=tmp_path_factory.mktemp("ev")))
    return app, engine


def _client(site, who: str) -> TestClient:
    c = TestClient(site[0], base_url="https://testserver", follow_redirects=False)
    assert login(c, who).status_code == 303
    return c


def test_province_sees_every_cluster_and_the_service_figures(site):
    """The API returns what the service computes for the province; the page shows each cluster."""
    got = _client(site, "prov").get(f"/api/whatif/simulate?pack={PACK}&set={REFORM}").json()
    expected = run_scenario(site[1], PACK, [REFORM], "32")
    assert got["lost"] == expected["lost"] == 4 and got["gained"] == 0
    with site[1].connect() as conn:
        assert len(got["clusters"]) == conn.execute(select(func.count()).select_from(Cluster)).scalar()
    page = _client(site, "prov").get(f"/whatif?pack={PACK}&th_J5=10")
    assert page.status_code == 200 and page.text.count("data-cluster=") == len(got["clusters"])
    assert 'class="lost"' in page.text and "J5" in page.text


def test_county_and_city_see_their_own_region_only(site):
    """Changshu sees its one cluster (lost); Suzhou's city count is Suzhou's; Tongshan may not ask for Changshu."""
    county = _client(site, "county_cs").get(f"/api/whatif/simulate?pack={PACK}&set={REFORM}").json()
    assert [c["county_code"] for c in county["clusters"]] == ["320581"] and county["lost"] == 1
    assert [r["city_code"] for r in county["by_city"]] == ["320500"]
    city = _client(site, "city_sz").get(f"/api/whatif/simulate?pack={PACK}&set={REFORM}").json()
    assert {c["county_code"][:4] for c in city["clusters"]} == {"3205"}
    ts = _client(site, "county_ts")
    assert ts.get(f"/api/whatif/simulate?pack={PACK}&set={REFORM}&region=320581").status_code == 403
    page = ts.get(f"/whatif?pack={PACK}&th_J5=10")
    assert page.text.count("data-cluster=") == 1 and "常熟市" not in page.text.split('id="whatif-clusters"')[1]


def test_bad_reform_is_a_clear_400(site):
    """An unknown criterion or a contradicting comparator is refused with the reason."""
    c = _client(site, "prov")
    r = c.get(f"/api/whatif/simulate?pack={PACK}&set=J99.threshold=1")
    assert r.status_code == 400 and "unknown criterion 'J99'" in r.json()["detail"]
    r = c.get(f"/api/whatif/simulate?pack={PACK}&set=J7.comparator=>")
    assert r.status_code == 400 and "不低于 means >=" in r.json()["detail"]
    assert c.get("/whatif?pack=no-such-pack").status_code == 404


def test_saving_a_scenario_is_audited_and_needs_csrf_and_the_province(site):
    """The province saves with the CSRF token (an audit entry names it); without the token, or as a city, no."""
    c = _client(site, "prov")
    form = {"name": "platforms-10", "pack": PACK, "changes": REFORM}
    assert c.post("/whatif/scenarios", data=form).status_code == 403  # no CSRF token
    r = c.post("/whatif/scenarios", data={**form, "csrf_token": csrf_of(c)})
    assert r.status_code == 303
    with session_scope(site[1]) as s:
        row = s.scalars(select(SavedScenario).where(SavedScenario.name == "platforms-10")).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "scenario.save")
                          .order_by(AuditEntry.id.desc())).first()
        assert (entry.actor, entry.target, entry.detail["changes"]) == ("prov", f"scenario:{row.id}", [REFORM])
    page = c.get(r.headers["location"])
    assert page.status_code == 200 and REFORM in page.text and page.text.count('class="lost"') == 4
    city = _client(site, "city_sz")
    assert city.post("/whatif/scenarios", data={**form, "name": "x", "csrf_token": csrf_of(city)}).status_code == 403
    assert [x["name"] for x in city.get("/api/whatif/scenarios").json()].count("platforms-10") == 1


def test_api_save_refuses_a_bad_reform_and_a_duplicate(site):
    """A reform that is not a valid pack is never saved; neither is a second scenario of the same name."""
    c = _client(site, "prov")
    headers = {"X-CSRF-Token": csrf_of(c)}
    bad = c.post("/api/whatif/scenarios", json={"name": "bad", "pack": PACK, "changes": ["J2.boundary_word=超过"]},
                 headers=headers)
    assert bad.status_code == 400 and "超过 means >" in bad.json()["detail"]
    ok = c.post("/api/whatif/scenarios", json={"name": "cloud", "pack": PACK, "changes": ["J7.threshold=0.25"]},
                headers=headers)
    assert ok.status_code == 200 and ok.json()["changes"] == ["J7.threshold=0.25"]
    again = c.post("/api/whatif/scenarios", json={"name": "cloud", "pack": PACK, "changes": ["J7.threshold=0.2"]},
                   headers=headers)
    assert again.status_code == 400
    with session_scope(site[1]) as s:
        assert s.scalars(select(func.count()).select_from(SavedScenario).where(SavedScenario.name == "bad")).one() == 0


def test_tier_pack_on_the_page(site):
    """A tier pack's page shows the firms gaining and losing, and the SRDI target's change."""
    page = _client(site, "prov").get("/whatif?pack=srdi-sme-2026&th_S6-9=60")
    assert page.status_code == 200 and 'id="whatif-counties"' in page.text and 'class="target"' in page.text


def _embedded(page_text: str) -> dict:
    """The chart data the page hands to whatif.js."""
    import json

    return json.loads(page_text.split('id="whatif-data">', 1)[1].split("</script>", 1)[0])


@pytest.mark.parametrize("who", ["prov", "city_sz", "county_cs"])
def test_map_counts_equal_the_table_per_county_in_the_viewers_region(site, who):
    """The map's per-county gained/lost (API and page) is the cluster table summed per county, inside the
    viewer's region only; net is gained minus lost."""
    c = _client(site, who)
    got = c.get(f"/api/whatif/simulate?pack={PACK}&set={REFORM}").json()
    summed: dict[str, list[int]] = {}
    for row in got["clusters"]:
        g = summed.setdefault(row["county_code"], [0, 0])
        g[0] += int(row["gained"])
        g[1] += int(row["lost"])
    expected = [{"code": k, "gained": v[0], "lost": v[1], "net": v[0] - v[1]} for k, v in sorted(summed.items())]
    assert got["by_county_map"] == expected and sum(r["lost"] for r in expected) == got["lost"] > 0
    prefix = {"prov": "32", "city_sz": "3205", "county_cs": "320581"}[who]
    assert all(r["code"].startswith(prefix) for r in got["by_county_map"])
    page = c.get(f"/whatif?pack={PACK}&th_J5=10")
    assert _embedded(page.text)["by_county"] == expected
    assert f'data-geo="/geo/counties.geojson?prefix={prefix}"' in page.text


def test_tier_map_counts_equal_the_county_table(site):
    """For a tier pack the map's per-county counts are the county table's and the changed firms recounted
    per county; a county account's map holds its own county only."""
    c = _client(site, "prov")
    got = c.get("/api/whatif/simulate?pack=srdi-sme-2026&set=S6-9.threshold=60").json()
    assert len(got["firms"]) < 200  # the list is complete, so it can be recounted
    recount: dict[str, list[int]] = {}
    for f in got["firms"]:
        recount.setdefault(f["county_code"], [0, 0])[0 if f["change"] == "gains" else 1] += 1
    table = {r["county_code"]: [r["gained"], r["lost"]] for r in got["by_county"] if r["gained"] or r["lost"]}
    mapped = {r["code"]: [r["gained"], r["lost"]] for r in got["by_county_map"] if r["gained"] or r["lost"]}
    assert mapped == table == recount and recount
    assert all(r["net"] == r["gained"] - r["lost"] for r in got["by_county_map"])
    county = _client(site, "county_ts").get("/api/whatif/simulate?pack=srdi-sme-2026&set=S6-9.threshold=60").json()
    assert [r["code"] for r in county["by_county_map"]] == ["320312"]


def test_refusals_speak_the_viewers_language(site):
    """Every refusal of the what-if page and its API is Chinese in the Chinese interface and English in the
    English one: a threshold that is not a number, a malformed change, a reform the pack rejects (its
    technical reason after a translated lead), an unknown scenario, a duplicate name."""
    c = _client(site, "prov")
    page = c.get(f"/whatif?pack={PACK}&th_J5=abc")
    assert page.status_code == 400 and "J5：'abc' 不是数字。" in html.unescape(page.text)
    assert "is not a number" not in page.text
    assert "J5: 'abc' is not a number." in html.unescape(c.get(f"/whatif?pack={PACK}&th_J5=abc&lang=en").text)
    bad = c.get(f"/api/whatif/simulate?pack={PACK}&set=nonsense").json()["detail"]
    assert bad == "改动的写法是 编号.字段=值，最多 40 项。"
    assert c.get(f"/api/whatif/simulate?pack={PACK}&set=nonsense&lang=en").json()["detail"] == \
        "Changes are ID.FIELD=VALUE, at most 40."
    rejected = c.get(f"/api/whatif/simulate?pack={PACK}&set=J99.threshold=1").json()["detail"]
    assert rejected.startswith("无法模拟这项改动：") and "J99" in rejected
    assert c.get("/api/whatif/simulate?pack=no-such&set=J5.threshold=1").json()["detail"].startswith("无法模拟")
    assert c.get("/whatif?scenario=999999", headers={"accept": "application/json"}).json()["detail"] == "没有这个情景。"
    headers = {"X-CSRF-Token": csrf_of(c)}
    body = {"name": "twice", "pack": PACK, "changes": ["J7.threshold=0.25"]}
    assert c.post("/api/whatif/scenarios", json=body, headers=headers).status_code == 200
    again = c.post("/api/whatif/scenarios", json=body, headers=headers)
    assert again.status_code == 400 and again.json()["detail"] == "名为 'twice' 的情景已存在"


def test_threshold_table_names_indicators_and_signs(site):
    """The threshold form names each indicator (上云 ..., not cloud_share) and shows ≥ rather than >=."""
    page = _client(site, "prov").get(f"/whatif?pack={PACK}").text
    form = page.split('id="reform-form"')[1].split("</form>")[0]
    assert "&gt;=" not in form and "≥" in form
    assert not re.search(r"<td><span title=\"(\w+)\">\1</span>", form)
