"""The chain page, the county page's growth options and their JSON twins: figures equal the services',
region and cluster access enforced, partners' figures only inside the viewer's region."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_fakes import PASSWORD, database, login  # noqa: F401  (database: a fixture)

from smecluster.accounts.users import add_user
from smecluster.db import open_database, session_scope
from smecluster.services.chains import chain_coverage, read_registry
from smecluster.services.demo import build_demo
from smecluster.services.relatedness import county_related
from smecluster.web.app import WebSettings, create_app

ACCOUNTS = {"prov": ("province_admin", "320000"), "city_cz": ("city_reviewer", "320400"),
            "county_ly": ("county_applicant", "320481"), "county_cs": ("county_applicant", "320581")}
LIYANG = "liyang-battery"


@pytest.fixture(scope="module")
def site(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
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


def test_api_coverage_is_the_service_result_and_the_page_shows_every_link(site):
    """The JSON twin equals the service's coverage; the page lists each link with its status."""
    c = _client(site, "prov")
    got = c.get(f"/api/chains/coverage?chain=power-battery&level=cluster&code={LIYANG}").json()
    (expected,) = chain_coverage(read_registry(site[1]), "cluster", LIYANG, "power-battery")
    assert got["links"] == expected["links"] and got["summary"] == expected["summary"]
    statuses = {link["status"] for link in got["links"]}
    assert {"present", "weak", "missing"} <= statuses  # the demo has all three
    page = c.get(f"/chains?chain=power-battery&level=cluster&code={LIYANG}")
    assert page.status_code == 200
    assert page.text.count('data-status="missing"') == sum(link["status"] == "missing" for link in got["links"])
    assert 'id="chain-graph"' in page.text and 'id="partner-map"' in page.text
    # the code field shows the cluster's code (what it was asked with), not its internal id
    assert f'name="code" value="{LIYANG}"' in page.text


def test_region_and_cluster_access(site):
    """A county sees its own cluster and county; another county's cluster is 404 and its county 403."""
    ly = _client(site, "county_ly")
    assert ly.get(f"/api/chains/coverage?level=cluster&code={LIYANG}").status_code == 200
    assert ly.get("/api/chains/coverage?level=county&code=320481").status_code == 200
    cs = _client(site, "county_cs")
    assert cs.get(f"/api/chains/coverage?level=cluster&code={LIYANG}").status_code == 404
    assert cs.get("/api/chains/coverage?level=county&code=320481").status_code == 403
    assert cs.get("/api/chains/coverage?level=province&code=32").status_code == 403
    assert cs.get(f"/api/chains/partners?cluster={LIYANG}").status_code == 404
    anonymous = TestClient(site[0], base_url="https://testserver", follow_redirects=False)
    assert anonymous.get("/api/chains").status_code in (401, 403)


def test_partner_figures_only_inside_the_region(site):
    """Liyang's county sees partners in other counties by name and distance, their figures blank; the
    province sees the figures."""
    ly = _client(site, "county_ly").get(f"/api/chains/partners?cluster={LIYANG}&chain=power-battery").json()
    prov = _client(site, "prov").get(f"/api/chains/partners?cluster={LIYANG}&chain=power-battery").json()
    outside = [p for g in ly["gaps"] for p in g["partners"] if not p["county_code"].startswith("320481")]
    assert outside, "the demo gives Liyang partners in other counties"
    assert all(p["output"] is None and p["tier"] is None and p["size"] is None for p in outside)
    by_firm = {p["uscc"]: p for g in prov["gaps"] for p in g["partners"]}
    assert any(by_firm[p["uscc"]]["output"] is not None for p in outside)
    for g in prov["gaps"]:  # nearest first within same city, then the province
        keys = [(not p["same_city"], not p["same_province"], p["distance_km"]) for p in g["partners"]]
        assert keys == sorted(keys)


def test_county_page_lists_growth_options(site):
    """The county page (overview of a county) shows the industries it could grow into, as its JSON twin."""
    prov = _client(site, "prov")
    page = prov.get("/overview?region=320481")
    assert page.status_code == 200 and 'id="related-options"' in page.text
    got = prov.get("/api/counties/320481/related?top=5").json()
    assert got == county_related(site[1], "320481", 5)
    for option in got["options"]:
        assert option["code"] in page.text
    assert _client(site, "county_cs").get("/api/counties/320481/related").status_code == 403


def test_partner_table_names_tiers_and_sizes(site):
    """The gap table shows a partner's tier and size class by name in the page's language, never the code."""
    import re

    from smecluster.web.templating import designation_labels

    words = {"zh": {"large": "大型企业", "medium": "中型企业", "small": "小型企业", "micro": "微型企业"},
             "en": {"large": "Large enterprise", "medium": "Medium-sized enterprise", "small": "Small enterprise",
                    "micro": "Micro enterprise"}}
    c = _client(site, "prov")
    for lang in ("zh", "en"):
        html = c.get(f"/chains?chain=power-battery&level=cluster&code={LIYANG}&lang={lang}").text
        table = html[html.index('id="chain-gaps"'):]
        table = table[:table.index("</table>")]
        tiers = re.findall(r'<td data-tier="([a-z_]*)">([^<]*)</td>', table)
        sizes = re.findall(r'<td data-size="([a-z_]*)">([^<]*)</td>', table)
        assert tiers and any(code for code, _ in sizes)
        for code, shown in tiers:  # (the demo's partners of this cluster may hold no tier)
            assert shown == (designation_labels(lang)[code] if code else "")
        for code, shown in sizes:
            assert shown == (words[lang][code] if code else "")
