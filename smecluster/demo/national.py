"""A fictional national registry: every county-level division of the 31 provinces, written as Parquet.

`write_national(out, enterprises)` draws the firms province by province and chunk by chunk with the
Jiangsu demo's column builders (smecluster.demo.generator: firms, four years of indicators, credit
codes; smecluster.demo.tier_profiles: the tier fields), writes each chunk as Hive-partitioned Parquet
(smecluster.registry.parquet_layout) and frees it, so memory stays bounded by the chunk, not by N.

Distributions:
- provinces: shares of N roughly proportional to the number of registered enterprises per province
  (rounded public statistics of market entities; `PROVINCE_WEIGHTS`, percent), so Guangdong, Jiangsu,
  Shandong and Zhejiang hold a third of the firms and Tibet and Qinghai a fraction of a per cent;
- counties: by the square root of their area, times a random factor (as the Jiangsu demo);
- industries: the Jiangsu demo's mix with manufacturing taken down to about a fifth of firms (the national
  share) and tilted per province, so that provinces specialise differently;
- sizes and yearly indicators: as the Jiangsu demo (mostly micro and small firms);
- designations: national rates (about 1% innovative SMEs, 0.23% SRDI SMEs, 0.03% little giants:
  ../shared/POLICY.md section 8), drawn among industrial firms weighted by revenue, with the tier ladder;
  granted in the two years before the data year, so the rates are of titles valid at its end.

Planted clusters (`PLANTED`): the five national clusters of the Jiangsu demo rebuilt in counties of
seven other provinces, with the same facts (members, output, growth, designations, platforms), so
that evaluation finds recognisable clusters outside Jiangsu. Every firm is marked fictional and every
name ends in （示例）. Credit codes are valid (GB 32100 check character) and unique nationally: one
serial counter runs over the whole registry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from smecluster.demo.generator import (
    _cluster_block,
    _designation_rows,
    _frame_block,
    _tier_ladder,
    load_specs,
)
from smecluster.demo.tier_profiles import tier_profiles

# Percent of registered enterprises by province (approximate public statistics; they need not add to 100).
PROVINCE_WEIGHTS: dict[str, float] = {
    "11": 3.0, "12": 0.9, "13": 4.0, "14": 1.8, "15": 1.0, "21": 2.0, "22": 1.0, "23": 1.1, "31": 3.0,
    "32": 7.5, "33": 6.0, "34": 4.0, "35": 3.0, "36": 2.2, "37": 7.0, "41": 4.8, "42": 3.5, "43": 2.8,
    "44": 12.5, "45": 2.0, "46": 1.2, "50": 2.0, "51": 4.0, "52": 1.8, "53": 2.0, "54": 0.2, "61": 2.5,
    "62": 0.9, "63": 0.2, "64": 0.3, "65": 1.0,
}
# National designation rates per firm (POLICY.md section 8: >600,000 innovative SMEs, >140,000 SRDI SMEs,
# >17,600 little giants among >60 million SMEs); high-tech and single champions from public counts.
DESIGNATION_RATES = {"high_tech": 0.0075, "innovative_sme": 0.010, "srdi_sme": 0.0023, "little_giant": 0.0003,
                     "single_champion": 0.00002}
# Titles are granted in the GRANT_YEARS years before the data year (all valid on its last day).
GRANT_YEARS = 2
MANUFACTURING_FACTOR = 0.2  # the Jiangsu mix is half manufacturing; nationally about a fifth of firms
# (county, the Jiangsu demo cluster it copies, the planted cluster's name)
PLANTED: list[tuple[str, str, str]] = [
    ("330282", "liyang-battery", "慈溪市动力电池产业集群（示例）"),
    ("440606", "huishan-components", "佛山市顺德区智能基础零部件产业集群（示例）"),
    ("370781", "tongshan-safety", "青州市安全应急产业集群（示例）"),
    ("350582", "changshu-fluorine", "晋江市电子氟材料产业集群（示例）"),
    ("420117", "yuhuatai-rail", "武汉市新洲区轨道交通动力装备产业集群（示例）"),
    ("510681", "liyang-battery", "广汉市动力电池产业集群（示例）"),
    ("410185", "tongshan-safety", "登封市安全应急产业集群（示例）"),
]
DEFAULT_CHUNK = 500_000
SME_OUTPUT_CAP_WAN = 3_200_000  # a planted cluster's output (万元): its firms stay SMEs (see _planted_specs)


class NationalDemoError(ValueError):
    """The national demo cannot be written (the folder is in use, or N is too small)."""


@dataclass
class NationalResult:
    """What was written: rows per table, provinces, planted clusters, seconds."""

    out: Path
    enterprises: int
    rows: dict[str, int] = field(default_factory=dict)
    provinces: int = 0
    clusters: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def allocate(n: int, weights: dict[str, float]) -> dict[str, int]:
    """Split n over the keys in proportion to the weights (largest remainders: the parts add to n)."""
    keys = sorted(weights)
    w = np.array([weights[k] for k in keys], dtype=float)
    exact = n * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = n - int(base.sum())
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return dict(zip(keys, base.tolist(), strict=True))


def _planted_specs() -> list[dict]:
    """The planted clusters' specifications: the Jiangsu templates moved to their counties."""
    templates = {s["code"]: s for s in load_specs()["clusters"]}
    out = []
    for county, template, name in PLANTED:
        spec = {k: v for k, v in templates[template].items()
                if k not in ("products", "public_platforms", "declared", "members_outside", "outside_county")}
        spec.update(code=f"n-{county}-{template.split('-')[1]}", name=name, county=county, national=True)
        # SMEs make at least 70% of the output under the national pack (N4): no template firm grows large
        spec["output_wan"] = min(spec["output_wan"], SME_OUTPUT_CAP_WAN)
        # and at least 30% of the members use an industrial internet platform (N10)
        spec["internet_share"] = max(spec.get("internet_share", 0.2), 0.35)
        out.append(spec)
    return out


def _industry_weights(mix: dict[str, float], industrial: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One province's industry mix: manufacturing scaled to the national share, tilted at random."""
    w = np.array(list(mix.values()), dtype=float) * np.where(industrial, MANUFACTURING_FACTOR, 1.0)
    w = w * rng.lognormal(0, 0.5, len(w))
    return w / w.sum()


def _designations(ent: pl.DataFrame, industrial: np.ndarray, revenue: np.ndarray, year: int,
                  rng: np.random.Generator) -> pl.DataFrame:
    """Designations at the national rates (counted over all firms), held by industrial firms weighted by
    revenue, then the tier ladder of the Jiangsu demo (a little giant also holds the tiers below)."""
    pool = np.flatnonzero(industrial)
    if not len(pool):
        return _designation_rows(np.array([], dtype=str), "high_tech", np.array([]))
    p = np.sqrt(revenue[pool])
    p = p / p.sum()
    out = []
    for kind, rate in DESIGNATION_RATES.items():
        k = min(int(rng.binomial(ent.height, rate)), len(pool))
        if k == 0:
            continue
        chosen = rng.choice(pool, k, replace=False, p=p)
        # granted in the two years before the data year: three years' validity (_designation_rows) keeps
        # every title valid at the data year's end, so the held counts are the national rates
        out.append(_designation_rows(ent["uscc"].gather(chosen), kind, rng.integers(year - GRANT_YEARS, year, k)))
    designation = pl.concat(out) if out else _designation_rows(np.array([], dtype=str), "high_tech", np.array([]))
    return _tier_ladder(designation, ent["uscc"].gather(pool), revenue[pool].astype(float), year)


def _sample_geoms(geoms: dict) -> dict:
    """County polygons to draw firm locations in: a county spread over islands far apart (三沙市) is
    replaced by its largest part, where rejection sampling in the bounding box finds points quickly."""
    import shapely

    out = {}
    for code, g in geoms.items():
        minx, miny, maxx, maxy = g.bounds
        box = max((maxx - minx) * (maxy - miny), 1e-12)
        if g.area / box < 0.05:
            g = max(shapely.get_parts(g), key=lambda part: part.area)
        out[code] = g
    return out


def write_national(
    out: str | Path,
    enterprises: int,
    seed: int = 20240601,
    year: int = 2025,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[str, int], None] | None = None,
) -> NationalResult:
    """Write the fictional national registry of `enterprises` background firms (plus the planted clusters'
    members) under `out` as Hive-partitioned Parquet with its manifest.

    `progress(label, firms_done)` is called after every chunk. The folder must be new or empty.
    """
    from smecluster.geo.counties import county_geometries
    from smecluster.registry import parquet_layout as layout
    from smecluster.registry.industries import shipped_industries
    from smecluster.registry.regions import region_rows

    started = time.perf_counter()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise NationalDemoError(f"{out}: the folder is not empty; give a new folder for the national registry")
    if enterprises < 31 * 10:
        raise NationalDemoError(f"--enterprises {enterprises}: at least 310 (ten firms a province)")
    if chunk < 1000:
        raise NationalDemoError(f"chunk {chunk}: at least 1,000 firms")
    out.mkdir(parents=True, exist_ok=True)
    result = NationalResult(out=out, enterprises=enterprises)
    writer = _Writer(out)

    regions = pl.DataFrame(region_rows(None), schema={
        "code": pl.Utf8, "name": pl.Utf8, "level": pl.Utf8, "parent_code": pl.Utf8, "area_km2": pl.Float64,
        "lon": pl.Float64, "lat": pl.Float64})
    writer.write("region", regions)
    writer.write("industry", pl.DataFrame(shipped_industries(), schema={
        "code": pl.Utf8, "name": pl.Utf8, "level": pl.Int32, "parent": pl.Utf8, "section": pl.Utf8}))
    counties = {r["code"]: r for r in regions.filter(pl.col("level") == "county").iter_rows(named=True)}
    geoms = _sample_geoms(county_geometries(None))
    spec = load_specs()
    mix = spec["industry_mix"]
    kinds = list(mix)
    kind_series = pl.Series(kinds, dtype=pl.Utf8)
    kind_industrial = np.array([6 <= int(k[:2]) <= 46 for k in kinds])
    planted = _planted_specs()
    shares = allocate(enterprises, PROVINCE_WEIGHTS)
    rng = np.random.default_rng(seed)
    serial = 0
    done = 0
    cluster_id = 0
    for province in sorted(shares):
        codes = np.array(sorted(c for c in counties if c.startswith(province) and c in geoms))
        if not len(codes):
            raise NationalDemoError(f"province {province}: no county boundary in the installed geo data")
        weights = np.sqrt([max(counties[c]["area_km2"] or 1.0, 1.0) for c in codes]) * rng.lognormal(0, 0.6, len(codes))
        weights = weights / weights.sum()
        industry_p = _industry_weights(mix, kind_industrial, rng)
        short = _short_name(regions, province)
        total, part = shares[province], 0
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            county = rng.choice(len(codes), n, p=weights)
            picked = rng.choice(len(kinds), n, p=industry_p)
            industrial = kind_industrial[picked]
            employees = np.maximum(np.round(rng.lognormal(2.6, 1.1, n)), 1)
            revenue = employees * rng.lognormal(np.log(60), 0.5, n)
            block = _frame_block(
                (codes, county), kind_series.gather(picked), employees, revenue,
                rng.normal(0.06, 0.12, n).clip(-0.3, 0.6),
                np.where(industrial, rng.beta(1.5, 60, n), rng.beta(1.2, 120, n)), rng.normal(0.06, 0.08, n),
                rng.random(n) < 0.3, rng.random(n) < 0.15, np.arange(serial, serial + n), year, rng, geoms,
                name_prefix=short,
            )
            serial += n
            designation = _designations(block["enterprise"], industrial, revenue, year, rng)
            _write_firms(writer, province, block["enterprise"], block["enterprise_year"], designation, year,
                         seed + serial, part, result.rows)
            del block, designation, county, picked, industrial, employees, revenue  # the chunk is freed
            part += 1
            done += n
            if progress:
                progress(f"{province} {short}", done)
        for cs in (s for s in planted if s["county"].startswith(province)):
            cluster_id += 1
            block = _cluster_block(cs, serial, year, rng, geoms, counties)
            serial += block["count"]
            _write_firms(writer, province, block["enterprise"], block["enterprise_year"], block["designation"], year,
                         seed + serial, part, result.rows)
            part += 1
            _write_cluster(writer, province, block, cluster_id, result.rows)
            result.clusters.append({"id": cluster_id, "code": cs["code"], "name": cs["name"],
                                    "county_code": cs["county"], "members": int(cs["members"])})
        result.provinces += 1
    layout.finish(out, {"registry_id": f"national-demo-{seed}-{enterprises}", "version": 1})
    result.seconds = time.perf_counter() - started
    return result


def _short_name(regions: pl.DataFrame, province: str) -> str:
    """A province's short name for firm names (江苏省 -> 江苏, 内蒙古自治区 -> 内蒙古)."""
    name = regions.filter(pl.col("code") == province + "0000")["name"]
    full = name[0] if len(name) else province
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"):
        if full.endswith(suffix):
            return full[: -len(suffix)]
    return full


class _Writer:
    """Chunks of registry tables into the Parquet layout (smecluster.registry.parquet_layout): the table's
    columns the generator has no value for are written as NULL, ids numbered across the registry."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.next_id: dict[str, int] = {}

    def write(self, table: str, frame: pl.DataFrame, part: int | str = 0, province: str | None = None) -> None:
        """Write one chunk of `table` (rows of one province when `province` is given)."""
        import pyarrow as pa

        from smecluster.registry import parquet_layout as layout

        schema = layout.table_schema(table)
        if "id" in schema.names and "id" not in frame.columns:  # designation, platform: numbered here
            start = self.next_id.get(table, 1)
            frame = frame.with_row_index("id", offset=start).with_columns(pl.col("id").cast(pl.Int64))
            self.next_id[table] = start + frame.height
        if layout.PROVINCE in layout.TABLES[table]:
            frame = frame.with_columns(
                pl.lit(province).alias(layout.PROVINCE) if province
                else pl.col(layout.REGION_OF[table]).str.slice(0, 2).alias(layout.PROVINCE))
        if table in layout.KEYED:  # the firm key: the credit code's digits after "91" (county, serial)
            frame = frame.with_columns(firm_key(frame["uscc"]))
            schema = schema.insert(0, pa.field(layout.FIRM, pa.int64()))
        arrow = frame.to_arrow()
        for f in schema:
            if f.name not in arrow.column_names:
                arrow = arrow.append_column(f.name, pa.nulls(arrow.num_rows, f.type))
        layout.write_rows(self.root, table, arrow, part)


def firm_key(uscc: pl.Series) -> pl.Series:
    """The layout's firm key of the generator's credit codes: "91" + county (6 digits) + serial (9 digits)
    + check character, so the 15 digits between are unique and ordered as the codes are."""
    if not uscc.str.contains(r"^91[0-9]{15}.$").all():
        raise NationalDemoError("firm key: a credit code not of the form 91 + 15 digits + check character")
    return uscc.str.slice(2, 15).cast(pl.Int64).alias("firm")


ENTERPRISE_COLUMNS = ("uscc", "name", "county_code", "industry_code", "lon", "lat", "established", "fictional")


def _write_firms(writer: _Writer, province: str, enterprise: pl.DataFrame, years: pl.DataFrame,
                 designation: pl.DataFrame, year: int, seed: int, part: int, rows: dict[str, int]) -> None:
    """One chunk of firms: enterprise, enterprise_year, designation and enterprise_profile."""
    enterprise = enterprise.with_columns(pl.lit(True).alias("fictional")).select(ENTERPRISE_COLUMNS)
    profile = tier_profiles(enterprise, years, designation, year, seed=seed)
    for table, frame in (("enterprise", enterprise), ("enterprise_year", years), ("designation", designation),
                         ("enterprise_profile", profile)):
        writer.write(table, frame, part, province)
        rows[table] = rows.get(table, 0) + frame.height


def _write_cluster(writer: _Writer, province: str, block: dict, cluster_id: int, rows: dict[str, int]) -> None:
    """A planted cluster's own rows: cluster, cluster_member, cluster_year and platform (ids set here)."""
    cluster = block["cluster"].with_columns(
        pl.lit(cluster_id, dtype=pl.Int64).alias("id"), pl.lit(True).alias("fictional"),
        pl.lit("recognised").alias("status"), pl.lit(json.dumps({})).alias("declared"),
    ).select("id", "code", "name", "county_code", "leading_industries", "boundary_geojson", "declared", "status",
             "year", "fictional")
    member = block["cluster_member"].select(pl.lit(cluster_id, dtype=pl.Int64).alias("cluster_id"), "uscc")
    platform = block["platform"].with_columns(
        pl.when(pl.col("cluster_code").is_not_null()).then(pl.lit(cluster_id, dtype=pl.Int64))
        .otherwise(pl.lit(None, dtype=pl.Int64)).alias("cluster_id"),
    ).drop("cluster_code")
    frames = [("cluster", cluster), ("cluster_member", member), ("platform", platform)]
    if block["cluster_year"] is not None:
        frames.append(("cluster_year", block["cluster_year"].select(
            pl.lit(cluster_id, dtype=pl.Int64).alias("cluster_id"), pl.exclude("cluster_code"))))
    for table, frame in frames:
        writer.write(table, frame, f"c{cluster_id}", province)
        rows[table] = rows.get(table, 0) + frame.height
