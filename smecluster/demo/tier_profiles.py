"""Fictional tier fields (enterprise_profile rows) and in-memory fact tables for the benchmark.

Vectorised and seeded: a latent capability per firm drives every field, designated firms get a
higher capability, and a few per cent of firms leave fields unreported. The rates give a mix of
firms eligible but not designated, designated but no longer eligible, and one criterion short.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
from sqlalchemy import Connection, insert

from smecluster.analytics.enterprise_facts import designation_columns
from smecluster.registry.profile import EnterpriseProfile

MISSING_RATE = 0.01  # share of firms leaving a given field unreported
# Capability boost by the highest tier a firm holds (designated firms are stronger on average).
HELD_BOOST = {"high_tech": 0.15, "innovative_sme": 0.2, "srdi_sme": 0.3, "little_giant": 0.45,
              "single_champion": 0.55}


def _blank(rng: np.random.Generator, values: np.ndarray, rate: float = MISSING_RATE) -> pl.Series:
    """A column with `rate` of its values missing (None)."""
    return pl.Series(values).scatter(np.flatnonzero(rng.random(len(values)) < rate), None)


def _ranks(rng: np.random.Generator, q: np.ndarray, rate: float, cut: float, worst: int) -> np.ndarray:
    """Mostly 0 (none); strong firms sometimes rank 1..worst."""
    hit = (q > cut) & (rng.random(len(q)) < rate)
    return np.where(hit, rng.integers(1, worst + 1, len(q)), 0).astype(np.int32)


def _now_fields(rng: np.random.Generator, q: np.ndarray) -> dict[str, np.ndarray]:
    """Fields as they stand at the end of the data year, driven by capability q in [0, 1]."""
    n = len(q)
    c1 = rng.poisson(0.05 + 3 * q**3, n)
    return {
        "niche_years": np.floor(rng.uniform(0, 4 + 18 * q, n)),
        "ip_class1": c1.astype(np.int32),
        "ip_class1_own": rng.binomial(c1, 0.6).astype(np.int32),
        "ip_class1_high_value": rng.binomial(c1, 0.25 * q).astype(np.int32),
        "ip_class1_applied": rng.binomial(c1, 0.7).astype(np.int32),
        "ip_class2": rng.poisson(0.1 + 2 * q**2, n).astype(np.int32),
        "digital_level": np.clip(np.round(q * 4 + rng.normal(0, 0.8, n)), 0, 4).astype(np.int8),
        "quality_award": rng.random(n) < 0.05 + 0.3 * q,
        "iso9001": rng.random(n) < 0.3 + 0.6 * q,
        "own_brand": rng.random(n) < 0.3 + 0.6 * q,
        "drafted_standard": rng.random(n) < 0.05 + 0.5 * q,
        "core_business_is": rng.random(n) < 0.4 + 0.6 * q,
        "certification": rng.random(n) < 0.05 + 0.7 * q**2,
        "market_share": np.round(np.clip(rng.beta(1, 30, n) * (1 + 6 * q**2), 0, 0.9), 4),
        "global_rank": _ranks(rng, q, 0.5, 0.85, 12),
        "rd_institution_level": np.clip(np.round((q - 0.3) * 5 + rng.normal(0, 0.7, n)), 0, 4).astype(np.int8),
        "strategic_emerging": rng.random(n) < 0.2 + 0.5 * q,
        "product_field_level": np.clip(np.round(q * 2.2 + rng.normal(0, 0.6, n)), 0, 2).astype(np.int8),
        "key_field_product": rng.random(n) < 0.1 + 0.7 * q,
        "tech_demo": rng.random(n) < 0.01 * q**2,
        "new_product": rng.random(n) < 0.2,
    }


def capability(rng: np.random.Generator, n: int, held: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Latent capability in [0, 1]; firms holding a designation get the boost of their best one."""
    q = rng.beta(2, 5, n)
    boost = np.zeros(n)
    for kind, mask in (held or {}).items():
        boost = np.maximum(boost, np.where(mask, HELD_BOOST.get(kind, 0.0), 0.0))
    return np.clip(q + boost * rng.uniform(0.3, 1.2, n), 0, 1)


def tier_profiles(
    enterprise: pl.DataFrame, enterprise_year: pl.DataFrame, designation: pl.DataFrame | None,
    year: int, seed: int = 20260401,
) -> pl.DataFrame:
    """enterprise_profile rows for years year-3..year of every enterprise (one frame, ready to write)."""
    return pl.concat(list(tier_profile_years(enterprise, enterprise_year, designation, year, seed)))


def tier_profile_years(
    enterprise: pl.DataFrame, enterprise_year: pl.DataFrame, designation: pl.DataFrame | None,
    year: int, seed: int = 20260401,
) -> Iterator[pl.DataFrame]:
    """The rows of `tier_profiles` one year at a time (years year-2, year-1, year, then year-3; each
    frame in the firms' order): a writer holds one year's rows, not four."""
    rng = np.random.default_rng(seed)
    uscc = enterprise["uscc"]
    n = len(uscc)
    position = enterprise.select("uscc").with_row_index("_i")  # each firm's row, to place values by join
    held = {}
    if designation is not None and designation.height:
        holders = designation.select("uscc", "kind").join(position, on="uscc", how="inner")
        for kind, rows in holders.group_by("kind"):
            held[kind[0]] = np.zeros(n, dtype=bool)
            held[kind[0]][rows["_i"].to_numpy()] = True
    q = capability(rng, n, held)
    share = np.clip(0.4 + 0.6 * q + rng.normal(0, 0.12, n), 0.2, 1.0)
    margin = rng.normal(0.02 + 0.08 * q, 0.04, n)
    now = _now_fields(rng, q)
    # the 2026 fields draw from their own generator so the 2022 fields stay as they were
    extra = np.random.default_rng(seed + 2026)
    now["national_rank"] = _ranks(extra, q, 0.6, 0.75, 20)
    # revenue of the four years, one row per year in the firms' order (NaN where a firm has no such year)
    revenue = np.full((4, n), np.nan)
    placed = (enterprise_year.select("uscc", "year", "revenue").filter(pl.col("year").is_between(year - 3, year))
              .join(position, on="uscc", how="inner"))
    revenue[(placed["year"] - (year - 3)).to_numpy(), placed["_i"].to_numpy()] = (
        placed["revenue"].cast(pl.Float64).to_numpy())

    def one_year(gen: np.random.Generator, back: int) -> pl.DataFrame:
        rev = revenue[3 - back]
        drift = np.clip(share + gen.normal(0, 0.02, n), 0.1, 1.0)
        rank_cols = {
            "national_award_rank": _ranks(gen, q, 0.02, 0.7, 8),
            "provincial_award_rank": _ranks(gen, q, 0.04, 0.6, 10),
            "maker_china_rank": _ranks(gen, q, 0.02, 0.5, 600),
        }
        equity = np.where(gen.random(n) < 0.005 + 0.08 * q**3, np.round(gen.lognormal(6.5, 1.3, n), 1), 0.0)
        score = np.round(np.clip(20 + 65 * q + extra.normal(0, 8, n), 0, 100), 1)
        fields = {k: (v - back if k == "niche_years" else v) for k, v in now.items()}
        fields["niche_years"] = np.maximum(fields["niche_years"], 0)
        frame = {
            "uscc": uscc, "year": np.full(n, year - back, dtype=np.int32),
            "main_revenue": np.round(rev * drift, 1), "net_profit": np.round(rev * margin, 1),
            "equity_raised": equity, "srdi_eval_score": score, **rank_cols, **fields,
        }
        return pl.DataFrame({k: (_blank(gen, v) if k not in ("uscc", "year") else v) for k, v in frame.items()})

    del placed
    for back in (2, 1, 0):
        yield one_year(rng, back).with_columns(pl.col("main_revenue", "net_profit").fill_nan(None))
    # year-3 too, so the year before the newest has its full window (2-year growth); own generator,
    # so the other years stay as they were
    yield one_year(np.random.default_rng(seed + 2022), 3).with_columns(
        pl.col("main_revenue", "net_profit").fill_nan(None))


def synthetic_facts(n: int, seed: int = 20260401) -> pl.DataFrame:
    """A fact table of n fictional firms built directly in memory (for the benchmark)."""
    rng = np.random.default_rng(seed)
    q = capability(rng, n)
    employees = np.maximum(np.round(rng.lognormal(2.6, 1.1, n)), 1)
    revenue = np.round(employees * rng.lognormal(np.log(60), 0.5, n) * (1 + 2 * q), 1)
    growth = rng.normal(0.02 + 0.15 * q, 0.08, n)
    rd_int = np.clip(rng.beta(1.5, 60, n) + 0.09 * q**2, 0, 0.6)
    share = np.clip(0.45 + 0.5 * q + rng.normal(0, 0.12, n), 0.2, 1.0)
    main = np.round(revenue * share, 1)
    now = _now_fields(rng, q)
    cols = {
        "county_code": pl.Series(rng.choice(np.array(["320102", "320205", "320312", "320481", "320582"]), n)),
        "industry_code": pl.Series(rng.choice(np.array(["3411", "3562", "3985", "2665", "6513"]), n)),
        "revenue": revenue, "revenue_prev": np.round(revenue / (1 + growth), 1),
        "revenue_prev2": np.round(revenue / (1 + growth) / (1 + rng.normal(0.03 + 0.1 * q, 0.08, n)), 1),
        "national_rank": _ranks(rng, q, 0.6, 0.75, 20),
        "srdi_eval_score": np.round(np.clip(20 + 65 * q + rng.normal(0, 8, n), 0, 100), 1),
        "srdi_eval_score_prev": np.round(np.clip(18 + 65 * q + rng.normal(0, 8, n), 0, 100), 1),
        "tech_sme": rng.random(n) < 0.03 + 0.3 * q**2,
        "rd_spending": np.round(revenue * rd_int, 2),
        "rd_spending_prev": np.round(revenue / (1 + growth) * rd_int * rng.uniform(0.8, 1.1, n), 2),
        "employees": employees.astype(np.int32),
        "rd_staff": np.round(employees * np.clip(rd_int * 4, 0, 0.6)).astype(np.int32),
        "total_assets": np.round(revenue * rng.uniform(0.8, 1.6, n), 1),
        "main_revenue": main, "main_revenue_prev": np.round(main / (1 + growth), 1),
        "main_revenue_prev2": np.round(main / (1 + growth) / (1 + rng.normal(0.03 + 0.1 * q, 0.08, n)), 1),
        "net_profit": np.round(revenue * rng.normal(0.02 + 0.08 * q, 0.04, n), 1),
        "equity_2y": np.where(rng.random(n) < 0.03 + 0.2 * q**2, np.round(rng.lognormal(7, 1.3, n), 1), 0.0),
        "national_award_rank_3y": _ranks(rng, q, 0.08, 0.6, 8),
        "provincial_award_rank_3y": _ranks(rng, q, 0.2, 0.45, 10),
        "maker_china_rank_3y": _ranks(rng, q, 0.05, 0.5, 600),
        "high_tech": rng.random(n) < 0.02 + 0.3 * q**2,
        **now,
    }
    cols["total_liabilities"] = np.round(cols["total_assets"] * rng.beta(5, 5, n), 1)
    # Industry (section C) thresholds of the size-class pack: large from 1,000 staff and 40,000 万元.
    large = (employees >= 1000) & (revenue >= 40000)
    cols["size_class"] = pl.Series(np.where(large, "large", np.where(
        (employees >= 300) & (revenue >= 2000), "medium", np.where((employees >= 20) & (revenue >= 300), "small",
                                                                   "micro"))))
    cols["equity_3y"] = cols["equity_2y"] + np.where(rng.random(n) < 0.02, np.round(rng.lognormal(6, 1, n), 1), 0.0)
    for kind, rate in zip(designation_columns(), (0.06, 0.02, 0.002, 0.0003), strict=False):
        cols[kind] = rng.random(n) < rate * (0.5 + 2 * q)
    frame = pl.DataFrame({k: (_blank(rng, v, 0.01) if k in now else v) for k, v in cols.items()})
    serial = pl.int_range(0, n, eager=True).cast(pl.Utf8).str.zfill(16)
    return frame.with_columns(("91" + serial).alias("uscc")).select("uscc", pl.exclude("uscc"))


def write_tier_profiles(conn: Connection, profiles: pl.DataFrame, chunk: int = 20_000) -> int:
    """Insert enterprise_profile rows (from tier_profiles) in the caller's transaction."""
    for start in range(0, profiles.height, chunk):
        conn.execute(insert(EnterpriseProfile), profiles.slice(start, chunk).to_dicts())
    return profiles.height
