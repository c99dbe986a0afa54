"""Entering data as a bureau has it: boundaries per cluster, designations with only a year, areas shown."""

from __future__ import annotations

import json

import shapely
from import_support import CODE_A, CODE_B, registry_engine, write_csv
from sqlalchemy import text
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.geo.area import area_km2
from smecluster.registry.importer import import_file

runner = CliRunner()
SQUARE = [[119.40, 31.40], [119.45, 31.40], [119.45, 31.45], [119.40, 31.45], [119.40, 31.40]]
CLUSTER_HEADERS = ["集群编号", "集群名称", "所在县区代码", "主导产业代码"]


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _designations(tmp_path, rows):
    headers = ["统一社会信用代码", "称号类型", "认定年份", "有效期起", "有效期止"]
    return write_csv(tmp_path / "d.csv", headers, rows)


def _with_enterprises(database_url):
    engine = registry_engine(database_url)
    with engine.begin() as conn:
        for code in (CODE_A, CODE_B):
            conn.execute(
                text("INSERT INTO enterprise (uscc, name, county_code, industry_code, fictional) "
                     "VALUES (:u, 'x', '320481', '3841', false)"), {"u": code}
            )
    return engine


def test_a_year_alone_gives_three_years_of_validity_with_a_notice(tmp_path, database_url):
    """Year only: valid 1 January of the year to 31 December two years later, and the row says so."""
    engine = _with_enterprises(database_url)
    path = _designations(tmp_path, [[CODE_A, "专精特新中小企业", "2023", "", ""],
                                    [CODE_B, "高新技术企业", "2022", "2022-11-18", "2025-11-17"]])
    result = import_file(engine, "designations", path)
    assert result.ok and result.stored.inserted == 2
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT uscc, CAST(valid_from AS TEXT) || '/' || CAST(valid_until AS TEXT) "
                                      "FROM designation")).all())
    assert rows == {CODE_A: "2023-01-01/2025-12-31", CODE_B: "2022-11-18/2025-11-17"}
    notices = result.notices
    assert notices["row"].to_list() == [2]  # the year-only row, not the dated one
    assert "only the year was given" in notices["reason"][0] and "2025-12-31" in notices["reason"][0]


def test_a_year_alone_in_a_file_without_date_columns(tmp_path, database_url):
    """A list with no validity columns at all stores derived dates too."""
    engine = _with_enterprises(database_url)
    path = write_csv(tmp_path / "d.csv", ["统一社会信用代码", "称号类型", "认定年份"], [[CODE_A, "小巨人", "2024"]])
    result = import_file(engine, "designations", path)
    assert result.ok and result.notices.height == 1
    got = _scalar(engine, "SELECT CAST(valid_until AS TEXT) FROM designation")
    assert got == "2026-12-31"


def test_a_first_day_alone_runs_three_years_from_it(tmp_path, database_url):
    """A given first day and no last day: the last day is three years on, less one day."""
    engine = _with_enterprises(database_url)
    path = _designations(tmp_path, [[CODE_A, "创新型中小企业", "2023", "2023-06-01", ""]])
    result = import_file(engine, "designations", path)
    assert result.ok
    assert _scalar(engine, "SELECT CAST(valid_until AS TEXT) FROM designation") == "2026-05-31"
    assert "no last day" in result.notices["reason"][0]


def test_a_bad_date_is_an_error_not_derived(tmp_path, database_url):
    """A date that cannot be read is still an error: the year does not paper over it."""
    engine = _with_enterprises(database_url)
    path = _designations(tmp_path, [[CODE_A, "专精特新中小企业", "2023", "2023-13-45", ""]])
    result = import_file(engine, "designations", path)
    assert not result.ok and result.errors["column"].to_list() == ["有效期起"]
    assert _scalar(engine, "SELECT count(*) FROM designation") == 0


def _cluster(engine, tmp_path):
    path = write_csv(tmp_path / "c.csv", CLUSTER_HEADERS, [["ly-battery", "溧阳电池", "320481", "3841"]])
    assert import_file(engine, "clusters", path).ok


def test_boundary_import_kind_stores_geojson_and_kml(tmp_path, database_url):
    """cluster_boundaries: a GeoJSON file is stored as given; a KML file as the GeoJSON of its polygon."""
    engine = registry_engine(database_url)
    _cluster(engine, tmp_path)
    geojson = json.dumps({"type": "Polygon", "coordinates": [SQUARE]})
    (tmp_path / "park.geojson").write_text(geojson, encoding="utf-8")
    path = write_csv(tmp_path / "b.csv", ["集群编号", "边界文件"], [["ly-battery", "park.geojson"]])
    result = import_file(engine, "cluster_boundaries", path)
    assert result.ok and result.stored.updated == 1 and result.stored.inserted == 0
    assert _scalar(engine, "SELECT boundary_geojson FROM cluster") == geojson
    coords = " ".join(f"{x},{y},0" for x, y in reversed(SQUARE))  # clockwise: re-oriented, with a notice
    (tmp_path / "park.kml").write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon><outerBoundaryIs><LinearRing>'
        f"<coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>",
        encoding="utf-8",
    )
    path = write_csv(tmp_path / "b.csv", ["集群编号", "边界文件"], [["ly-battery", "park.kml"]])
    result = import_file(engine, "cluster_boundaries", path)
    assert result.ok and "clockwise" in result.notices["reason"][0]
    stored = shapely.from_geojson(_scalar(engine, "SELECT boundary_geojson FROM cluster"))
    assert stored.equals(shapely.Polygon(SQUARE))


def test_boundary_import_errors_name_row_and_reason(tmp_path, database_url):
    """An unknown cluster and an unreadable file are errors of their rows; nothing is stored."""
    engine = registry_engine(database_url)
    _cluster(engine, tmp_path)
    (tmp_path / "line.geojson").write_text(json.dumps({"type": "LineString", "coordinates": SQUARE[:2]}))
    rows = [["nope", "line.geojson"], ["ly-battery", "line.geojson"]]
    path = write_csv(tmp_path / "b.csv", ["集群编号", "边界文件"], rows)
    result = import_file(engine, "cluster_boundaries", path)
    reasons = dict(zip(result.errors["row"].to_list(), result.errors["reason"].to_list(), strict=True))
    assert "not a polygon" in reasons[3] and "no cluster with this code" in reasons[2]
    assert _scalar(engine, "SELECT boundary_geojson FROM cluster") is None


def test_boundary_command_stores_on_the_cluster(tmp_path, database_url):
    """`smecluster boundary FILE --cluster CODE --store` prints the area and stores the boundary."""
    engine = registry_engine(database_url)
    _cluster(engine, tmp_path)
    park = tmp_path / "park.geojson"
    park.write_text(json.dumps({"type": "Polygon", "coordinates": [SQUARE]}), encoding="utf-8")
    checked = runner.invoke(app, ["--db", database_url, "boundary", str(park), "--cluster", "ly-battery"])
    assert checked.exit_code == 0, checked.output
    assert _scalar(engine, "SELECT boundary_geojson FROM cluster") is None  # without --store: nothing kept
    result = runner.invoke(app, ["--db", database_url, "boundary", str(park), "--cluster", "ly-battery", "--store"])
    assert result.exit_code == 0, result.output
    assert f"{area_km2(shapely.Polygon(SQUARE)):.3f}" in result.output
    assert shapely.from_geojson(_scalar(engine, "SELECT boundary_geojson FROM cluster")).equals(shapely.Polygon(SQUARE))
    unknown = runner.invoke(app, ["--db", database_url, "boundary", str(park), "--cluster", "nope", "--store"])
    assert unknown.exit_code == 1 and "no cluster" in unknown.output




def test_verdict_shows_every_area_and_which_was_used(tmp_path, database_url):
    """With 3 located members the hull overrides the declared area, and the verdict says so; a stored
    boundary then takes over, and the hull's area is still shown next to it."""
    from smecluster.geo.footprint import footprint_from_points
    from smecluster.registry.uscc import make_uscc_one
    from smecluster.services.clusters import evaluate_clusters
    from smecluster.services.registry import store_cluster_boundary

    engine = registry_engine(database_url)
    codes = [make_uscc_one(f"91320481MA1P0001{i}") for i in range(3)]
    lons, lats = [119.41, 119.44, 119.42], [31.41, 31.41, 31.44]
    ent = write_csv(tmp_path / "e.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码", "经度", "纬度"],
                    [[c, f"企业{i}", "320481", "3841", lons[i], lats[i]] for i, c in enumerate(codes)])
    years = write_csv(tmp_path / "y.csv", ["统一社会信用代码", "年份", "工业总产值(万元)"],
                      [[c, "2024", "100"] for c in codes])
    clusters = write_csv(tmp_path / "c.csv", [*CLUSTER_HEADERS, "申报占地面积(平方公里)"],
                         [["ly-battery", "溧阳电池", "320481", "3841", "42.5"]])
    members = write_csv(tmp_path / "m.csv", ["集群编号", "统一社会信用代码"], [["ly-battery", c] for c in codes])
    for kind, path in (("enterprises", ent), ("enterprise_years", years), ("clusters", clusters),
                       ("cluster_members", members)):
        assert import_file(engine, kind, path).ok, kind

    def areas():
        (v,) = evaluate_clusters(engine, year=2024)
        found = [c.areas for c in v.criteria if c.areas]
        assert len(found) == 1
        return found[0]

    hull = area_km2(footprint_from_points(lons, lats))
    first = areas()
    assert first["used"] == "members_hull" and first["declared_km2"] == 42.5 and first["located_members"] == 3
    assert abs(first["hull_km2"] - hull) < 1e-9 and first["boundary_km2"] is None
    park = tmp_path / "park.geojson"
    park.write_text(json.dumps({"type": "Polygon", "coordinates": [SQUARE]}), encoding="utf-8")
    store_cluster_boundary(engine, "ly-battery", park)
    second = areas()
    assert second["used"] == "boundary" and abs(second["boundary_km2"] - area_km2(shapely.Polygon(SQUARE))) < 1e-9
    assert abs(second["hull_km2"] - hull) < 1e-9


def test_cluster_status_is_set_on_insert_only_and_blank_flags_take_the_default(tmp_path, database_url):
    """申报状态 sets a new cluster's status; a re-import never changes it (the workflow owns it);
    a blank 示例数据 cell stores false."""
    engine = registry_engine(database_url)
    headers = [*CLUSTER_HEADERS, "申报状态", "示例数据"]
    first = write_csv(tmp_path / "c.csv", headers, [["ly-battery", "溧阳电池", "320481", "3841", "已申报", ""]])
    assert import_file(engine, "clusters", first).ok
    assert _scalar(engine, "SELECT status FROM cluster") == "submitted"
    assert _scalar(engine, "SELECT fictional FROM cluster") in (False, 0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE cluster SET status = 'recognised'"))
    renamed = [["ly-battery", "溧阳电池产业集群", "320481", "3841", "草稿", "否"]]
    again = write_csv(tmp_path / "c2.csv", headers, renamed)
    assert import_file(engine, "clusters", again).ok
    assert _scalar(engine, "SELECT status FROM cluster") == "recognised"
    assert _scalar(engine, "SELECT name FROM cluster") == "溧阳电池产业集群"
    refused = write_csv(tmp_path / "c3.csv", headers, [["x", "x", "320481", "3841", "已认定", ""]])
    result = import_file(engine, "clusters", refused)
    assert not result.ok and result.errors["column"].to_list() == ["申报状态"]
