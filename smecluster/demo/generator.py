"""A deterministic, fictional Jiangsu registry for demonstrations, tests and benchmarks.

Whole columns are drawn at once (numpy); the only loops are over counties and clusters.
The cluster specifications (clusters.yaml) hold the facts each demo cluster is built from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import shapely
import yaml

from smecluster.demo.geometry import park_centre, park_polygon, points_in, points_in_park
from smecluster.demo.products import add_products
from smecluster.geo.counties import county_geometries
from smecluster.policy.validity import derived_end
from smecluster.registry.industries import demo_industries, shipped_industries
from smecluster.registry.regions import region_rows
from smecluster.registry.uscc import make_uscc

SPEC_FILE = Path(__file__).with_name("clusters.yaml")
BASE_FIRMS = 10_000
# Share of industrial firms holding each designation (background registry).
DESIGNATION_RATES = {
    "high_tech": 0.06, "innovative_sme": 0.05, "srdi_sme": 0.015, "little_giant": 0.0012,
    "single_champion": 0.0002,
}  # plus science-and-technology SMEs and the tier ladder (_tier_ladder), from a separate generator


@dataclass
class DemoData:
    """The generated registry as frames, one per table (clusters keyed by code)."""

    year: int
    enterprise: pl.DataFrame
    enterprise_year: pl.DataFrame
    designation: pl.DataFrame
    platform: pl.DataFrame
    cluster: pl.DataFrame
    cluster_member: pl.DataFrame
    specs: list[dict] = field(default_factory=list)


def load_specs() -> dict:
    """The demo cluster specifications and the background industry mix."""
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def make_codes(county_codes: np.ndarray, serials: np.ndarray) -> np.ndarray:
    """Valid credit codes '91' + county + 9-digit serial + check character (vectorised)."""
    bodies = "91" + pl.Series(np.asarray(county_codes).astype(str)) + pl.Series(serials).cast(pl.Utf8).str.zfill(9)
    return make_uscc(bodies).to_numpy().astype("U18")


def _classes_under(codes: list[str]) -> list[str]:
    classes = [r["code"] for r in demo_industries() if r["level"] == 4]
    return [c for c in classes if any(c.startswith(p) for p in codes)]


def _years_frame(
    uscc: np.ndarray, year: int, revenue_now: np.ndarray, growth: np.ndarray, industrial: np.ndarray,
    rd_now: np.ndarray, rd_growth: np.ndarray, employees_now: np.ndarray, cloud_now: np.ndarray,
    internet_now: np.ndarray, rng: np.random.Generator,
) -> pl.DataFrame:
    """Four years (year-3 .. year) of indicators for a set of firms."""
    frames = []
    n = len(uscc)
    assets_ratio = rng.uniform(0.8, 1.6, n)
    debt = rng.beta(5, 5, n)
    output_ratio = rng.uniform(0.88, 1.0, n)
    for back in range(3, -1, -1):
        rev = revenue_now / (1 + growth) ** back
        emp = np.maximum(np.round(employees_now / (1 + growth / 3) ** back), 1)
        rd = rd_now / (1 + rd_growth) ** back
        # Cloud adoption only grows over time: a firm on the cloud now may have joined later.
        cloud = cloud_now & (rng.random(n) > 0.12 * back)
        frames.append(
            pl.DataFrame(
                {
                    "uscc": uscc,
                    "year": np.full(n, year - back, dtype=np.int32),
                    "revenue": np.round(rev, 1),
                    "output": np.where(industrial, np.round(rev * output_ratio, 1), np.nan),
                    "rd_spending": np.round(rd, 2),
                    "employees": emp.astype(np.int64),
                    "rd_staff": np.round(emp * np.clip(rd / np.maximum(rev, 1) * 4, 0, 0.6)).astype(np.int64),
                    "total_assets": np.round(rev * assets_ratio, 1),
                    "total_liabilities": np.round(rev * assets_ratio * debt, 1),
                    "cloud": cloud,
                    "industrial_internet": internet_now & (rng.random(n) > 0.1 * back),
                }
            ).with_columns(pl.col("output").fill_nan(None))
        )
    return pl.concat(frames)


def _names(prefix: str, n: int, rng: np.random.Generator) -> pl.Series:
    words = np.array(list("华瑞恒创鑫泰盛达宏远金科新天明信和润博安精工"))
    picks = rng.integers(0, len(words), (n, 2))
    serial = pl.Series(np.arange(n)).cast(pl.Utf8).str.zfill(5)
    return (prefix + pl.Series(words[picks[:, 0]]) + pl.Series(words[picks[:, 1]]) + serial
            + "有限公司（示例）").alias("name")


def generate(seed: int = 20230331, scale: float = 1.0, year: int = 2025) -> DemoData:
    """Generate the fictional registry: background firms in all counties plus the demo clusters."""
    rng = np.random.default_rng(seed)
    spec = load_specs()
    counties = {r["code"]: r for r in region_rows("32") if r["level"] == "county"}
    geoms = county_geometries("32")
    sections = {r["code"]: r["section"] for r in shipped_industries() if r["level"] == 2}

    # Background registry.
    n = max(int(BASE_FIRMS * scale), len(counties))
    codes = np.array(sorted(counties))
    weights = np.sqrt([counties[c]["area_km2"] for c in codes]) * rng.lognormal(0, 0.4, len(codes))
    county = rng.choice(codes, n, p=weights / weights.sum())
    mix = spec["industry_mix"]
    industry = rng.choice(np.array(list(mix)), n, p=np.array(list(mix.values())) / sum(mix.values()))
    division = pl.Series(industry).str.slice(0, 2)
    industrial = division.replace_strict(sections, default="").is_in(["B", "C", "D"]).to_numpy()
    employees = np.maximum(np.round(rng.lognormal(2.6, 1.1, n)), 1)
    revenue = employees * rng.lognormal(np.log(60), 0.5, n)
    growth = rng.normal(0.06, 0.12, n).clip(-0.3, 0.6)
    rd_intensity = np.where(industrial, rng.beta(1.5, 60, n), rng.beta(1.2, 120, n))
    background = _frame_block(
        county, industry, employees, revenue, growth, rd_intensity, rng.normal(0.06, 0.08, n),
        rng.random(n) < 0.3, rng.random(n) < 0.15, np.arange(n), year, rng, geoms,
    )
    designations = [_background_designations(background["enterprise"], industrial, revenue, year, rng,
                                             background["enterprise_year"])]
    enterprises, years = [background["enterprise"]], [background["enterprise_year"]]

    clusters, members, platforms = [], [], []
    serial = n
    for cs in spec["clusters"]:
        block = _cluster_block(cs, serial, year, rng, geoms, counties)
        serial += block["count"]
        enterprises.append(block["enterprise"])
        years.append(block["enterprise_year"])
        designations.append(block["designation"])
        platforms.append(block["platform"])
        clusters.append(block["cluster"])
        members.append(block["cluster_member"])
    enterprise = pl.concat(enterprises).with_columns(pl.lit(True).alias("fictional"))
    enterprise = add_products(enterprise, pl.concat(members), spec)
    return DemoData(
        year=year,
        enterprise=enterprise,
        enterprise_year=pl.concat(years),
        designation=pl.concat([d for d in designations if d.height]),
        platform=pl.concat(platforms),
        cluster=pl.concat(clusters),
        cluster_member=pl.concat(members),
        specs=spec["clusters"],
    )


def _frame_block(
    county, industry, employees, revenue, growth, rd_intensity, rd_growth, cloud, internet, serials, year,
    rng, geoms, name_prefix: str = "江苏", coords: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    n = len(county)
    uscc = make_codes(np.asarray(county), np.asarray(serials))
    if coords is None:
        lon, lat = np.empty(n), np.empty(n)
        for code in np.unique(county):
            idx = np.flatnonzero(county == code)
            lon[idx], lat[idx] = points_in(geoms[code], len(idx), rng)
    else:
        lon, lat = coords
    # Divisions 06-46 are sections B (mining), C (manufacturing) and D (utilities).
    division = pl.Series(np.asarray(industry).astype(str)).str.slice(0, 2).cast(pl.Int32).to_numpy()
    industrial = (division >= 6) & (division <= 46)
    enterprise = pl.DataFrame(
        {
            "uscc": uscc,
            "name": _names(name_prefix, n, rng),
            "county_code": np.asarray(county).astype(str),
            "industry_code": np.asarray(industry).astype(str),
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "established": (rng.integers(1995, year - 3, n) - 1970).astype("datetime64[Y]").astype(
                "datetime64[D]"),
        }
    )
    rd_now = revenue * rd_intensity
    years = _years_frame(uscc, year, revenue, growth, industrial, rd_now, rd_growth, employees, cloud,
                         internet, rng)
    return {"enterprise": enterprise, "enterprise_year": years}


def _designation_rows(uscc: np.ndarray, kind: str, granted: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "uscc": uscc,
            "kind": np.full(len(uscc), kind),
            "year": granted.astype(np.int32),
            "valid_from": (granted.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]"),
            # Three years of validity: granted in 2023, held until 2025-12-31.
            "valid_until": (granted.astype(np.int64) + 3 - 1970).astype("datetime64[Y]").astype(
                "datetime64[D]") - np.timedelta64(1, "D"),
        },
        schema={"uscc": pl.Utf8, "kind": pl.Utf8, "year": pl.Int32, "valid_from": pl.Date,
                "valid_until": pl.Date},
    )


def _background_designations(ent: pl.DataFrame, industrial, revenue, year, rng,
                             years: pl.DataFrame | None = None) -> pl.DataFrame:
    uscc = ent["uscc"].to_numpy()
    pool = np.flatnonzero(industrial)
    p = np.sqrt(revenue[pool])
    p = p / p.sum()
    out = []
    for kind, rate in DESIGNATION_RATES.items():
        k = int(round(rate * len(pool)))
        if k == 0:
            continue
        chosen = rng.choice(pool, k, replace=False, p=p)
        out.append(_designation_rows(uscc[chosen], kind, rng.integers(year - 4, year, k)))
    if not out:
        return _designation_rows(np.array([], dtype=str), "high_tech", np.array([]))
    weight = revenue[pool].astype(float)
    if years is not None:  # firms with R&D of 3% and CNY 1 million in each of the last 2 years weigh more
        recent = years.filter(pl.col("year") >= year - 1).group_by("uscc").agg(
            (pl.min("rd_spending") >= 100) & ((pl.col("rd_spending") / pl.col("revenue")).min() >= 0.03))
        strong = ent.select("uscc").join(recent, on="uscc", how="left")["rd_spending"].fill_null(False).to_numpy()
        weight = weight * np.where(strong[pool], 30.0, 1.0)
    return _tier_ladder(pl.concat(out), uscc[pool], weight, year)


def _tier_ladder(designation: pl.DataFrame, pool: np.ndarray, weight: np.ndarray, year: int) -> pl.DataFrame:
    """Background firms climb the tiers in order (the 2026 packs require the tier below): a little giant
    also holds the SRDI title and an SRDI firm the first-tier title, (re)granted the year before the
    data year, so valid when the newest data are evaluated; and a
    share of firms hold a science-and-technology SME designation of the data year (dates left to the
    validity rule); 3% more firms, the larger and more research-intensive more likely (`weight`), hold a
    first-tier title granted the year before (candidates for the 2026 SRDI standard). A separate
    generator keeps the rest of the demo (clusters) as it was."""
    rng = np.random.default_rng(year * 7919)
    renewed = rng.choice(pool, int(round(0.03 * len(pool))), replace=False, p=weight / weight.sum())
    fresh = np.setdiff1d(renewed, designation.filter((pl.col("kind") == "innovative_sme")
                                                     & (pl.col("year") == year - 1))["uscc"].to_numpy())
    designation = pl.concat([designation, _designation_rows(fresh, "innovative_sme", np.full(len(fresh), year - 1))])
    lower = {"little_giant": "srdi_sme", "srdi_sme": "innovative_sme"}
    extra = []
    for upper, below in lower.items():
        held = designation.filter(pl.col("kind") == upper)
        have = designation.filter((pl.col("kind") == below) & (pl.col("year") == year - 1))["uscc"].implode()
        need = held.filter(~pl.col("uscc").is_in(have)).unique("uscc")
        extra.append(_designation_rows(need["uscc"].to_numpy(), below, np.full(need.height, year - 1)))
        designation = pl.concat([designation, extra[-1]])
    tech = rng.choice(pool, int(round(0.08 * len(pool))), replace=False)
    rows = pl.DataFrame({"uscc": tech, "kind": "tech_sme", "year": year}, schema={"uscc": pl.Utf8, "kind": pl.Utf8,
                                                                                  "year": pl.Int32})
    # Dated as an import of a year-only list would date them (the one validity rule).
    start = date(year, 1, 1)
    rows = rows.with_columns(pl.lit(start, dtype=pl.Date).alias("valid_from"),
                             pl.lit(derived_end("tech_sme", start), dtype=pl.Date).alias("valid_until"))
    return pl.concat([designation, rows])


def _cluster_block(cs: dict, serial: int, year: int, rng, geoms, counties) -> dict:
    n = int(cs["members"])
    county_geom = geoms[cs["county"]]
    lon0, lat0 = park_centre(county_geom)
    leading_classes = _classes_under(cs["leading"])
    related = _classes_under(["34", "35", "38", "39", "29", "33"])
    n_lead = int(round(n * 0.85))
    industry = np.concatenate([rng.choice(leading_classes, n_lead), rng.choice(related, n - n_lead)])
    share = rng.lognormal(0, 0.9, n)
    output_now = share / share.sum() * cs["output_wan"]
    revenue = output_now / rng.uniform(0.9, 1.0, n)
    employees = np.maximum(np.round(revenue / rng.lognormal(np.log(90), 0.3, n)), 5)
    growth = np.clip(rng.normal(cs["output_growth"], 0.02, n), -0.2, 0.8)
    rd_intensity = rng.uniform(0.03, 0.07, n)
    rd_growth = rng.normal(cs["rd_growth"], 0.005, n)
    cloud = _exactly(n, cs["cloud_share"], rng)
    internet = _exactly(n, cs.get("internet_share", 0.2), rng)
    county = np.full(n, cs["county"])
    lon, lat = points_in_park(county_geom, lon0, lat0, cs["park_km"], n, rng)
    outside = int(cs.get("members_outside", 0))
    if outside:
        county[-outside:] = cs["outside_county"]
        lon[-outside:], lat[-outside:] = points_in(geoms[cs["outside_county"]], outside, rng)
    short = counties[cs["county"]]["name"][:2]
    block = _frame_block(county, industry, employees, revenue, growth, rd_intensity, rd_growth, cloud,
                         internet, np.arange(serial, serial + n), year, rng, geoms, short, (lon, lat))
    uscc = block["enterprise"]["uscc"].to_numpy()
    # Designations held in the evaluation year: little giants / champions first, in the leading industry.
    k_champ, k_srdi, k_ht = cs["champions"], cs["srdi"], cs["high_tech"]
    granted = np.full(n, year - 2)
    designation = [
        _designation_rows(uscc[:k_champ], "little_giant", granted[:k_champ]),
        _designation_rows(uscc[k_champ:k_champ + k_srdi], "srdi_sme", granted[:k_srdi]),
        _designation_rows(uscc[k_champ + k_srdi:k_champ + k_srdi + k_ht], "high_tech", granted[:k_ht]),
    ]
    if k_champ >= 4:
        designation.append(_designation_rows(uscc[:1], "single_champion", granted[:1]))
    public = cs.get("public_platforms", [])
    hosted = cs["platforms"] - len(public)
    hosts = rng.choice(uscc[: n - outside], hosted, replace=False)
    platform = pl.DataFrame(
        {
            "name": [f"{cs['name'][:-4]}{t}{i + 1}（示例）" for i, t in enumerate(
                rng.choice(["工程技术研究中心", "企业技术中心", "重点实验室"], hosted))]
            + [p["name"] for p in public],
            "level": list(rng.choice(["provincial", "national"], hosted, p=[0.85, 0.15]))
            + [p["level"] for p in public],
            "type": ["工程技术研究中心"] * hosted + [p["type"] for p in public],
            "county_code": [cs["county"]] * (hosted + len(public)),
            "host_uscc": list(hosts) + [None] * len(public),
            "cluster_code": [None] * hosted + [cs["code"]] * len(public),
            "year": [year - 3] * (hosted + len(public)),
        },
        schema={"name": pl.Utf8, "level": pl.Utf8, "type": pl.Utf8, "county_code": pl.Utf8,
                "host_uscc": pl.Utf8, "cluster_code": pl.Utf8, "year": pl.Int32},
    )
    extra_ent, extra_years = _dilution(cs, serial + n, year, rng, geoms)
    boundary = None
    if cs.get("boundary"):
        park = park_polygon(lon0, lat0, cs["park_km"] * 1.15).intersection(county_geom)
        boundary = json.dumps(shapely.geometry.mapping(park))
    cluster = pl.DataFrame(
        {
            "code": [cs["code"]], "name": [cs["name"]], "county_code": [cs["county"]],
            "leading_industries": [json.dumps(cs["leading"])], "boundary_geojson": [boundary],
            "declared": [json.dumps(cs.get("declared", {}), ensure_ascii=False)],
            "status": ["submitted"], "year": [year],
        },
        schema={"code": pl.Utf8, "name": pl.Utf8, "county_code": pl.Utf8, "leading_industries": pl.Utf8,
                "boundary_geojson": pl.Utf8, "declared": pl.Utf8, "status": pl.Utf8, "year": pl.Int32},
    )
    return {
        "count": n + extra_ent.height,
        "enterprise": pl.concat([block["enterprise"], extra_ent]),
        "enterprise_year": pl.concat([block["enterprise_year"], extra_years]),
        "designation": pl.concat(designation),
        "platform": platform,
        "cluster": cluster,
        "cluster_member": pl.DataFrame({"cluster_code": [cs["code"]] * n, "uscc": uscc}),
    }


def _dilution(cs: dict, serial: int, year: int, rng, geoms) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Large non-leading industrial firms that make the leading industry a small part of the county."""
    total = cs.get("county_dilution_wan", 0)
    k = 30 if total else 0
    county = np.full(k, cs["county"])
    revenue = np.full(k, total / max(k, 1))
    block = _frame_block(
        county, np.full(k, "3612"), np.full(k, 3000.0), revenue, np.full(k, 0.05), np.full(k, 0.02),
        np.full(k, 0.05), np.zeros(k, bool), np.zeros(k, bool), np.arange(serial, serial + k), year, rng,
        geoms, "江苏",
    )
    return block["enterprise"], block["enterprise_year"]


def _exactly(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean column with exactly round(share * n) True values, at random positions."""
    flags = np.zeros(n, dtype=bool)
    flags[rng.choice(n, int(round(share * n)), replace=False)] = True
    return flags
