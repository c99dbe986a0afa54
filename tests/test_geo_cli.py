"""The `smecluster locate` command on a CSV file."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.geo.crs import from_wgs84


def test_locate_csv_with_bd09(tmp_path):
    """locate converts BD-09 input and writes county code and name for each row."""
    bx, by = from_wgs84([119.48, 120.75], [31.42, 31.65], "bd09")
    source = tmp_path / "firms.csv"
    pl.DataFrame({"name": ["a", "b"], "lon": bx, "lat": by}).write_csv(source)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["locate", str(source), "--crs", "bd09", "--province", "32", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out, schema_overrides={"county_code": pl.String})
    assert table["county_code"].to_list() == ["320481", "320581"]
    assert table["county_name"].to_list() == ["溧阳市", "常熟市"]


def test_locate_missing_column_is_clear_error(tmp_path):
    """A CSV without the longitude column fails with a message naming the column."""
    source = tmp_path / "firms.csv"
    pl.DataFrame({"name": ["a"], "x": [119.4], "lat": [31.4]}).write_csv(source)
    result = CliRunner().invoke(app, ["locate", str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "'lon' is missing" in result.output


def test_boundary_command_reports_area_and_containment(tmp_path):
    """`boundary` prints the area and says a Liyang park is inside 320481 but not inside 320581."""
    import json

    park = {
        "type": "Polygon",
        "coordinates": [[[119.40, 31.40], [119.45, 31.40], [119.45, 31.45], [119.40, 31.45], [119.40, 31.40]]],
    }
    path = tmp_path / "park.geojson"
    path.write_text(json.dumps(park))
    inside = CliRunner().invoke(app, ["boundary", str(path), "--county", "320481"])
    outside = CliRunner().invoke(app, ["boundary", str(path), "--county", "320581"])
    assert inside.exit_code == 0 and "inside county 320481" in inside.output
    assert "NOT inside county 320581" in " ".join(outside.output.split())
    assert "area 26." in inside.output  # 0.05 degree: 5.55 km north x 4.74 km east at 31.4 N = 26.3 km2


def test_locate_warns_about_unusable_rows(tmp_path):
    """Rows with a non-numeric or out-of-range coordinate are named in warnings and left unlocated."""
    source = tmp_path / "firms.csv"
    source.write_text("name,lon,lat\na,119.48,31.42\nb,abc,31.4\nc,119.4,95\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["locate", str(source), "--province", "32", "-o", str(out)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "row 2, column lon: 'abc' is not a number" in text
    assert "row 3, column lat: 95.0 is outside -90..90" in text
    assert "1 of 3 rows located" in text
