"""Long tables (web/tables.py): sorted, filtered and paged by the query string on every long page, the
same helper everywhere, links and a GET form only (no JavaScript needed)."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_fakes import database, demo_url, fake_evaluate, login  # noqa: F401 (fixtures)

from smecluster.db import session_scope
from smecluster.registry.models import ClusterMember, Enterprise, Industry
from smecluster.web.app import WebSettings, create_app
from smecluster.web.tables import TableSpec, table_page

ROWS = [{"code": f"32{i:04d}", "name": f"县{i}", "firms": (i * 37) % 101, "share": None if i % 10 == 0 else i / 7}
        for i in range(95)]
SPEC = TableSpec("counties", ("code", "firms", "share"), "code", search=("name", "code"))


def test_default_page_is_the_first_twenty_rows_in_order():
    t = table_page(SPEC, ROWS, {})
    assert [r["code"] for r in t.rows] == [r["code"] for r in ROWS[:20]]
    assert (t.total, t.matched, t.page, t.pages, t.first, t.last) == (95, 95, 1, 5, 1, 20)


def test_sort_filter_and_last_page():
    t = table_page(SPEC, ROWS, {"counties_sort": "firms", "counties_order": "desc"})
    firms = [r["firms"] for r in t.rows]
    assert firms == sorted((r["firms"] for r in ROWS), reverse=True)[:20]
    last = table_page(SPEC, ROWS, {"counties_page": "5"})
    assert [r["code"] for r in last.rows] == [r["code"] for r in ROWS[80:]]
    found = table_page(SPEC, ROWS, {"counties_q": " 县1 "})  # spaces trimmed, substring of the name
    assert {r["name"] for r in found.rows} == {r["name"] for r in ROWS if "县1" in r["name"]}
    assert found.matched < found.total == 95


def test_missing_values_sort_last_either_way():
    for order in ("asc", "desc"):
        t = table_page(SPEC, ROWS, {"counties_sort": "share", "counties_order": order, "counties_per": "200"})
        shares = [r["share"] for r in t.rows]
        assert shares[-10:] == [None] * 10 and None not in shares[:-10]


def test_bad_parameters_fall_back_rather_than_fail():
    t = table_page(SPEC, ROWS, {"counties_sort": "name; drop", "counties_page": "x", "counties_per": "7",
                                "counties_order": "up"})
    assert (t.sort, t.desc, t.page, t.per) == ("code", False, 1, 20)
    beyond = table_page(SPEC, ROWS, {"counties_page": "99"})
    assert beyond.page == 5 and beyond.rows


def test_links_keep_the_pages_other_parameters_and_reset_the_page():
    query = {"region": "320500", "clusters_page": "2", "counties_page": "3", "counties_q": "县"}
    t = table_page(SPEC, ROWS, query)
    link = t.sort_href("firms")
    assert "region=320500" in link and "clusters_page=2" in link and "counties_q=" in link
    assert "counties_page" not in link and "counties_sort=firms" in link
    assert "counties_order=desc" in table_page(SPEC, ROWS, {"counties_sort": "firms"}).sort_href("firms")
    assert t.page_links() == [1, 2, 3, 4, 5]
    assert table_page(SPEC, ROWS * 3, {"counties_page": "8"}).page_links() == [1, None, 6, 7, 8, 9, 10, None, 15]
    assert ("region", "320500") in t.hidden() and not any(k.startswith("counties_") for k, _ in t.hidden())


# pages over the demo registry


@pytest.fixture(scope="module")
def app(demo_url, tmp_path_factory):  # noqa: F811
    settings = WebSettings(evidence_dir=tmp_path_factory.mktemp("ev"))
    return create_app(demo_url, evaluate=fake_evaluate, settings=settings)


def client_as(app, username: str | None) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    if username:
        assert login(c, username).status_code == 303
    return c


def _county_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-county="(\d{6})">', html)


def test_overview_pages_the_95_counties(app):
    """The province's overview shows 20 of its 95 counties with a pager, not all 95 cards; page 5 holds the
    last 15; the order by enterprises (descending) starts with the county the JSON twin counts most firms in."""
    c = client_as(app, "province")
    data = c.get("/api/overview").json()
    assert len(data["counties"]) == 95
    first = c.get("/overview").text
    assert _county_rows(first) == [r["code"] for r in data["counties"][:20]]
    assert 'aria-label="表格分页"' in first
    assert _county_rows(c.get("/overview?counties_page=5").text) == [r["code"] for r in data["counties"][80:]]
    by_firms = _county_rows(c.get("/overview?counties_sort=enterprises&counties_order=desc").text)
    most = max(r["enterprises"] for r in data["counties"])
    assert next(r for r in data["counties"] if r["code"] == by_firms[0])["enterprises"] == most
    kunshan = _county_rows(c.get("/overview?counties_q=昆山").text)
    assert kunshan == [r["code"] for r in data["counties"] if "昆山" in r["name"]]


def test_overview_table_links_work_without_javascript(app):
    """Sorting is a plain link (aria-sort on the header), the filter a GET form whose hidden fields keep
    the other table's state, so the page works with scripts off and on a phone (the sort is in the form)."""
    html = client_as(app, "province").get("/overview?clusters_page=1&counties_q=市").text
    form = re.search(r'<form method="get" class="table-controls"[^>]*data-table="counties">(.*?)</form>', html, re.S)
    assert form and 'name="counties_sort"' in form.group(1) and 'name="counties_q" value="市"' in form.group(1)
    assert 'name="clusters_page"' in form.group(1)  # the other table's state rides along
    table = re.search(r'<table id="counties-table".*?</thead>', html, re.S).group(0)
    link = re.search(r'<th aria-sort="ascending" data-label="[^"]+"[^>]*><a class="sort" href="([^"]+)"', table)
    assert link and "counties_order=desc" in htmllib.unescape(link.group(1))


def _a_big_cluster(app) -> tuple[int, int]:
    with session_scope(app.state.engine) as s:
        return s.execute(select(ClusterMember.cluster_id, func.count()).group_by(ClusterMember.cluster_id)
                         .order_by(func.count().desc()).limit(1)).one()


def test_cluster_members_are_paged_sorted_and_filtered_by_the_database(app):
    """A cluster of more than 20 members shows 20, the next page the next ones in credit-code order; the
    filter by a credit code finds that one firm; sorting by name descending starts with the largest name."""
    cid, n = _a_big_cluster(app)
    assert n > 20
    with session_scope(app.state.engine) as s:
        members = s.execute(select(Enterprise.uscc, Enterprise.name)
                            .join(ClusterMember, ClusterMember.uscc == Enterprise.uscc)
                            .where(ClusterMember.cluster_id == cid).order_by(Enterprise.uscc)).all()
    c = client_as(app, "province")

    def usccs(html):
        body = re.search(r'<table class="members".*?</table>', html, re.S).group(0)
        return re.findall(r'<td class="card-key">([0-9A-Z]{18})', body)

    assert usccs(c.get(f"/clusters/{cid}").text) == [m.uscc for m in members[:20]]
    assert usccs(c.get(f"/clusters/{cid}?members_page=2").text) == [m.uscc for m in members[20:40]]
    assert usccs(c.get(f"/clusters/{cid}?members_q={members[7].uscc}").text) == [members[7].uscc]
    assert usccs(c.get(f"/clusters/{cid}?members_q={members[7].uscc.lower()}").text) == [members[7].uscc]
    top = usccs(c.get(f"/clusters/{cid}?members_sort=name&members_order=desc").text)[0]
    assert dict(members)[top] == max(m.name for m in members)
    assert f"({n})</h2>" in c.get(f"/clusters/{cid}").text  # the count is of all members, not the page


def test_discovery_names_the_industries_beside_the_codes(app):
    """Each candidate's industry shows its GB/T 4754 name beside the code, on the page and in its JSON twin."""
    c = client_as(app, "province")
    features = c.get("/api/discover").json()["features"]
    assert features
    with session_scope(app.state.engine) as s:
        names = dict(s.execute(select(Industry.code, Industry.name)).all())
    html = c.get("/discover?candidates_per=200").text
    for f in features:
        code = f["properties"]["industry"]
        assert f["properties"]["industry_name"] == names[code]
        cell = re.search(rf'<tr data-candidate="{f["properties"]["candidate"]}">.*?<td class="industry">([^<]*)</td>',
                         html, re.S).group(1)
        assert cell == f"{code} {names[code]}"


def test_every_long_page_answers_with_table_parameters(app):
    """The same parameters work on each long page (province account), and a Chinese page shows no English
    of the table controls."""
    c = client_as(app, "province")
    cid, _ = _a_big_cluster(app)
    for url in ("/?list_sort=year&list_order=desc", "/overview?clusters_sort=outcome",
                "/discover?candidates_sort=members",
                "/targets?target1_sort=count&target1_order=desc", "/priority?ranking_sort=score",
                "/watch?watch_sort=name&watch_q=市",
                f"/clusters/{cid}?members_sort=industry_code"):
        r = c.get(url)
        assert r.status_code == 200, url
        assert "Sort by" not in r.text and "Rows per page" not in r.text and "排序" in r.text, url


def test_targets_county_tables_sort_by_count(app):
    c = client_as(app, "province")
    data = c.get("/api/targets").json()
    html = c.get("/targets?target1_sort=count&target1_order=desc").text
    first = re.search(r'<table class="by-county">.*?</table>', html, re.S).group(0)
    counts = [int(x.replace(",", "")) for x in re.findall(r'<td class="num">([\d,]+)</td>', first)]
    expected = sorted((r["count"] for r in data["targets"][0]["counties"]), reverse=True)[:20]
    assert counts == expected


