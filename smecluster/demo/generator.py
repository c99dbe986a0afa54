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
    cluster_year: pl.DataFrame | None = None  # cooperation facts by cluster code and year


def load_specs() -> dict:
    """The demo cluster specifications and the background industry mix."""
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def make_codes(county_codes: np.ndarray, serials: np.ndarray) -> np.ndarray:
    """Valid credit codes '91' + county + 9-digit serial + check character (vectorised)."""
    return _code_series(pl.Series(np.asarray(county_codes).astype(str)), serials).to_numpy().astype("U18")


def _code_series(county: pl.Series, serials: np.ndarray) -> pl.Series:
    """`make_codes` as a Polars column (no NumPy strings: converting millions of them costs seconds)."""
    return make_uscc("91" + county.cast(pl.Utf8) + pl.Series(serials).cast(pl.Utf8).str.zfill(9))


def _classes_under(codes: list[str]) -> list[str]:
    classes = [r["code"] for r in demo_industries() if r["level"] == 4]
    return [c for c in classes if any(c.startswith(p) for p in codes)]


def _years_frame(
    uscc: pl.Series, year: int, revenue_now: np.ndarray, growth: np.ndarray, industrial: np.ndarray,
    rd_now: np.ndarray, rd_growth: np.ndarray, employees_now: np.ndarray, cloud_now: np.ndarray,
    internet_now: np.ndarray, rng: np.random.Generator,
) -> pl.DataFrame:
    """Four years (year-3 .. year) of indicators for a set of firms."""
    frames = []
    n = len(uscc)
    assets_ratio = rng.uniform(0.8, 1.6, n)
    debt = rng.beta(5, 5, n)
    output_ratio = rng.uniform(0.88, 1.0, n)
    # priority fields: patents grow with R&D, energy per unit of output falls ~3% a year, exports a share
    patents_now = rng.poisson(np.clip(rd_now / 150.0, 0.1, 50))
    energy_intensity = rng.lognormal(np.log(0.06), 0.45, n)  # t standard coal per 10,000 CNY of output
    export_share = rng.beta(1.0, 6.0, n)
    smart_level = rng.choice(np.array([0, 1, 2, 3]), n, p=[0.6, 0.22, 0.14, 0.04])
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
                    "invention_patents": np.floor(patents_now * (1 - 0.15 * back)).astype(np.int64),
                    "energy_use": np.where(industrial, np.round(rev * output_ratio * energy_intensity
                                                                / 0.97 ** back, 2), np.nan),
                    "exports": np.where(industrial, np.round(rev * output_ratio * export_share, 1), np.nan),
                    "smart_mfg_level": np.maximum(smart_level - (back >= 2), 0).astype(np.int64),
                }
            ).with_columns(pl.col("output").fill_nan(None), pl.col("energy_use").fill_nan(None),
                           pl.col("exports").fill_nan(None))
        )
    return pl.concat(frames)


def _names(prefix: str, n: int, rng: np.random.Generator) -> pl.Series:
    words = pl.Series(list("华瑞恒创鑫泰盛达宏远金科新天明信和润博安精工"))
    picks = rng.integers(0, len(words), (n, 2))
    serial = pl.Series(np.arange(n)).cast(pl.Utf8).str.zfill(5)
    return (prefix + words.gather(picks[:, 0]) + words.gather(picks[:, 1]) + serial
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
    # Draws by position (the same draws as choosing among the values), values looked up by Polars.
    county = rng.choice(len(codes), n, p=weights / weights.sum())
    mix = spec["industry_mix"]
    kinds = list(mix)
    picked = rng.choice(len(kinds), n, p=np.array(list(mix.values())) / sum(mix.values()))
    industry = pl.Series(kinds, dtype=pl.Utf8).gather(picked)
    industrial = np.array([sections.get(k[:2], "") in ("B", "C", "D") for k in kinds], dtype=bool)[picked]
    employees = np.maximum(np.round(rng.lognormal(2.6, 1.1, n)), 1)
    revenue = employees * rng.lognormal(np.log(60), 0.5, n)
    growth = rng.normal(0.06, 0.12, n).clip(-0.3, 0.6)
    rd_intensity = np.where(industrial, rng.beta(1.5, 60, n), rng.beta(1.2, 120, n))
    background = _frame_block(
        (codes, county), industry, employees, revenue, growth, rd_intensity, rng.normal(0.06, 0.08, n),
        rng.random(n) < 0.3, rng.random(n) < 0.15, np.arange(n), year, rng, geoms,
    )
    designations = [_background_designations(background["enterprise"], industrial, revenue, year, rng,
                                             background["enterprise_year"])]
    enterprises, years = [background["enterprise"]], [background["enterprise_year"]]

    clusters, members, platforms, cluster_years = [], [], [], []
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
        if block["cluster_year"] is not None:
            cluster_years.append(block["cluster_year"])
    enterprise = pl.concat(enterprises).with_columns(pl.lit(True).alias("fictional"))
    enterprise = add_products(enterprise, pl.concat(members), spec)
    from smecluster.demo.doubtful import plant_doubtful  # a few doubtful figures for the quality checks

    return plant_doubtful(DemoData(
        year=year,
        enterprise=enterprise,
        enterprise_year=pl.concat(years),
        designation=pl.concat([d for d in designations if d.height]),
        platform=pl.concat(platforms),
        cluster=pl.concat(clusters),
        cluster_member=pl.concat(members),
        specs=spec["clusters"],
        cluster_year=pl.concat(cluster_years) if cluster_years else None,
    ))


def _county_ids(county: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct county codes, position of each row's code among them)."""
    codes, ids = np.unique(np.asarray(county).astype(str), return_inverse=True)
    return codes, ids.ravel()


def _frame_block(
    county: tuple[np.ndarray, np.ndarray], industry: pl.Series, employees, revenue, growth, rd_intensity,
    rd_growth, cloud, internet, serials, year, rng, geoms, name_prefix: str = "江苏",
    coords: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Firms and their yearly rows; `county` is (sorted county codes, each firm's position among them)."""
    codes, ids = county
    n = len(ids)
    county_code = pl.Series(codes.astype(str), dtype=pl.Utf8).gather(ids)
    uscc = _code_series(county_code, np.asarray(serials))
    if coords is None:
        # Firms grouped by county (county order, each group in firm order): one draw per county.
        lon, lat = np.empty(n), np.empty(n)
        order = np.argsort(ids, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(ids, minlength=len(codes)))])
        for k in np.flatnonzero(np.diff(bounds)):
            idx = order[bounds[k]:bounds[k + 1]]
            lon[idx], lat[idx] = points_in(geoms[codes[k]], len(idx), rng)
    else:
        lon, lat = coords
    industry = pl.Series(industry).cast(pl.Utf8)
    # Divisions 06-46 are sections B (mining), C (manufacturing) and D (utilities).
    division = industry.str.slice(0, 2).cast(pl.Int32).to_numpy()
    industrial = (division >= 6) & (division <= 46)
    enterprise = pl.DataFrame(
        {
            "uscc": uscc,
            "name": _names(name_prefix, n, rng),
            "county_code": county_code,
            "industry_code": industry,
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


def _designation_rows(uscc: np.ndarray | pl.Series, kind: str, granted: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "uscc": pl.Series(uscc, dtype=pl.Utf8),
            "kind": pl.repeat(kind, len(uscc), dtype=pl.Utf8, eager=True),
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
    uscc = ent["uscc"]
    pool = np.flatnonzero(industrial)
    p = np.sqrt(revenue[pool])
    p = p / p.sum()
    out = []
    for kind, rate in DESIGNATION_RATES.items():
        k = int(round(rate * len(pool)))
        if k == 0:
            continue
        chosen = rng.choice(pool, k, replace=False, p=p)
        out.append(_designation_rows(uscc.gather(chosen), kind, rng.integers(year - 4, year, k)))
    if not out:
        return _designation_rows(np.array([], dtype=str), "high_tech", np.array([]))
    weight = revenue[pool].astype(float)
    if years is not None:  # firms with R&D of 3% and CNY 1 million in each of the last 2 years weigh more
        weight = weight * np.where(_research_strong(ent, years, year)[pool], 30.0, 1.0)
    return _tier_ladder(pl.concat(out), uscc.gather(pool), weight, year)


def _research_strong(ent: pl.DataFrame, years: pl.DataFrame, year: int) -> np.ndarray:
    """Per firm: R&D of at least CNY 1 million and 3% of revenue in each of the last two years."""
    n = ent.height
    # _years_frame stacks the years oldest first, each in the firms' order: read them by position
    if years.height == 4 * n and all(
        (years["year"].slice(k * n, n) == year - 3 + k).all() and years["uscc"].slice(k * n, n).equals(ent["uscc"])
        for k in (2, 3)
    ):
        rd = years["rd_spending"].to_numpy().reshape(4, n)[2:]
        ratio = rd / years["revenue"].to_numpy().reshape(4, n)[2:]
        return (rd.min(axis=0) >= 100) & (ratio.min(axis=0) >= 0.03)
    recent = years.filter(pl.col("year") >= year - 1).group_by("uscc").agg(
        (pl.min("rd_spending") >= 100) & ((pl.col("rd_spending") / pl.col("revenue")).min() >= 0.03))
    return ent.select("uscc").join(recent, on="uscc", how="left")["rd_spending"].fill_null(False).to_numpy()


def _tier_ladder(designation: pl.DataFrame, pool: pl.Series, weight: np.ndarray, year: int) -> pl.DataFrame:
    """Background firms climb the tiers in order (the 2026 packs require the tier below): a little giant
    also holds the SRDI title and an SRDI firm the first-tier title, (re)granted the year before the
    data year, so valid when the newest data are evaluated; and a
    share of firms hold a science-and-technology SME designation of the data year (dates left to the
    validity rule); 3% more firms, the larger and more research-intensive more likely (`weight`), hold a
    first-tier title granted the year before (candidates for the 2026 SRDI standard). A separate
    generator keeps the rest of the demo (clusters) as it was."""
    rng = np.random.default_rng(year * 7919)
    # positions drawn as when choosing among the codes; set operations in Polars (NumPy's on strings are slow)
    renewed = pool.gather(rng.choice(len(pool), int(round(0.03 * len(pool))), replace=False, p=weight / weight.sum()))
    have = designation.filter((pl.col("kind") == "innovative_sme") & (pl.col("year") == year - 1))["uscc"]
    fresh = renewed.filter(~renewed.is_in(have.implode())).unique().sort()  # as np.setdiff1d: sorted, distinct
    designation = pl.concat([designation, _designation_rows(fresh, "innovative_sme", np.full(len(fresh), year - 1))])
    lower = {"little_giant": "srdi_sme", "srdi_sme": "innovative_sme"}
    extra = []
    for upper, below in lower.items():
        held = designation.filter(pl.col("kind") == upper)
        have = designation.filter((pl.col("kind") == below) & (pl.col("year") == year - 1))["uscc"].implode()
        need = held.filter(~pl.col("uscc").is_in(have)).unique("uscc")
        extra.append(_designation_rows(need["uscc"].to_numpy(), below, np.full(need.height, year - 1)))
        designation = pl.concat([designation, extra[-1]])
    tech = pool.gather(rng.choice(len(pool), int(round(0.08 * len(pool))), replace=False))
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
    block = _frame_block(_county_ids(county), industry, employees, revenue, growth, rd_intensity, rd_growth,
                         cloud, internet, np.arange(serial, serial + n), year, rng, geoms, short, (lon, lat))
    if cs.get("cloud_share_past"):
        block["enterprise_year"] = _falling_cloud(block["enterprise_year"], cs, year)
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
    pr = cs.get("priority")
    cluster_year = None
    if pr:
        block["enterprise_year"] = _priority_years(block["enterprise_year"], uscc, pr, year, rng)
        for kind, key in (("green_factory", "green_factories"), ("iso14001", "iso14001"),
                          ("two_integration", "two_integration")):
            k = pr[key] if key == "green_factories" else int(round(pr[key] * n))
            picks = rng.choice(n - outside, min(k, n - outside), replace=False)
            designation.append(_designation_rows(uscc[picks], kind, np.full(len(picks), year - 1)))
        cluster_year = pl.DataFrame({
            "cluster_code": [cs["code"]] * 4, "year": np.arange(year - 3, year + 1, dtype=np.int32),
            "promotion_org": [bool(pr["promotion_org"]) and y >= year - pr.get("promotion_since", 3)
                              for y in range(year - 3, year + 1)],
            "alliances": [max(pr["alliances"] - (3 - b), 0) for b in range(4)],
            "cooperation_agreements": [max(pr["agreements"] - 2 * (3 - b), 0) for b in range(4)],
        })
    public = cs.get("public_platforms", [])
    hosted = cs["platforms"] - len(public)
    hosts = rng.choice(uscc[: n - outside], hosted, replace=False)
    kinds = [str(t) for t in rng.choice(PLATFORM_TYPES, hosted)]
    stem = platform_stem(cs["name"])
    platform = pl.DataFrame(
        {
            "name": [f"{stem}{t}{i + 1}（示例）" for i, t in enumerate(kinds)] + [p["name"] for p in public],
            "level": list(rng.choice(["provincial", "national"], hosted, p=[0.85, 0.15]))
            + [p["level"] for p in public],
            "type": kinds + [p["type"] for p in public],
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
        "cluster_year": cluster_year,
    }


PLATFORM_TYPES = ["工程技术研究中心", "企业技术中心", "重点实验室"]


def platform_stem(cluster_name: str) -> str:
    """The start of a demo platform's name: the cluster's place and industry, without 产业集群 and without
    the near miss's note in brackets (昆山市电子电路产业集群（示例：跨县成员） gives 昆山市电子电路)."""
    return cluster_name.split("（")[0].split("(")[0].strip().removesuffix("产业集群")


def _priority_years(years: pl.DataFrame, uscc: np.ndarray, pr: dict, year: int, rng) -> pl.DataFrame:
    """Members' priority fields from the cluster's spec (patents per firm, energy intensity and its
    yearly change, export share, share at smart-manufacturing level 2+), each firm varying around it."""
    n = len(uscc)
    firm = pl.DataFrame({
        "uscc": uscc,
        "_patents": rng.poisson(pr["patents"], n).astype(np.int64),
        "_ei": pr["energy_intensity"] * rng.lognormal(0, 0.15, n),
        "_exp": np.clip(pr["export_share"] * rng.lognormal(0, 0.2, n), 0, 0.95),
        "_l2": _exactly(n, pr["smart_l2"], rng),
    })
    back = (pl.lit(year) - pl.col("year")).cast(pl.Float64)
    return years.join(firm, on="uscc", how="left").with_columns(
        (pl.col("_patents") * (1 - 0.12 * back)).floor().cast(pl.Int64).alias("invention_patents"),
        (pl.col("output") * pl.col("_ei") / (1 + pr["energy_trend"]) ** back).round(2).alias("energy_use"),
        (pl.col("output") * pl.col("_exp")).round(1).alias("exports"),
        pl.when(pl.col("_l2") & (back <= 1)).then(pl.lit(2, dtype=pl.Int64) + (pl.col("_patents") > 8).cast(pl.Int64))
        .otherwise(pl.lit(1, dtype=pl.Int64)).alias("smart_mfg_level"),
    ).drop("_patents", "_ei", "_exp", "_l2")


def _dilution(cs: dict, serial: int, year: int, rng, geoms) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Large non-leading industrial firms that make the leading industry a small part of the county."""
    total = cs.get("county_dilution_wan", 0)
    k = 30 if total else 0
    county = np.full(k, cs["county"])
    revenue = np.full(k, total / max(k, 1))
    block = _frame_block(
        _county_ids(county), np.full(k, "3612"), np.full(k, 3000.0), revenue, np.full(k, 0.05), np.full(k, 0.02),
        np.full(k, 0.05), np.zeros(k, bool), np.zeros(k, bool), np.arange(serial, serial + k), year, rng,
        geoms, "江苏",
    )
    return block["enterprise"], block["enterprise_year"]


def _falling_cloud(years: pl.DataFrame, cs: dict, year: int) -> pl.DataFrame:
    """Cloud adoption that falls: in year y-3..y-1 exactly the shares of `cloud_share_past` of the members
    (this year's adopters plus others who left the cloud since). A generator of its own, so the rest of
    the demo keeps its random draws."""
    rng = np.random.default_rng(sum(cs["code"].encode()))
    now = years.filter(pl.col("year") == year)["cloud"].to_numpy()
    n = len(now)
    frames = [years.filter(pl.col("year") == year)]
    for back, share in zip((3, 2, 1), cs["cloud_share_past"], strict=True):
        flags = now.copy()
        extra = max(int(round(share * n)) - int(now.sum()), 0)
        flags[rng.choice(np.flatnonzero(~now), extra, replace=False)] = True
        frames.append(years.filter(pl.col("year") == year - back).with_columns(pl.Series("cloud", flags)))
    return pl.concat(frames).sort("year", maintain_order=True)


def _exactly(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean column with exactly round(share * n) True values, at random positions."""
    flags = np.zeros(n, dtype=bool)
    flags[rng.choice(n, int(round(share * n)), replace=False)] = True
    return flags
