"""One rule for when a designation counts, used by every indicator (clusters, tiers, targets).

A designation counts on date D when it started on or before D and ends on or after D (both days
included). Its start is `valid_from`, else 1 January of its `year`. Its end is `valid_until`, else
derived: start + the validity period of the pack of its tier in force on the start date (or, for a
certificate that is not a tier, the period in certificates.yaml) - 1 day. A cluster evaluation for
data year Y counts designations on D = 31 December of Y (`cluster_date`), and says so in the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from smecluster.policy.pack import packs_of_kind
from smecluster.policy.tiers import tiers

CERTIFICATES_FILE = Path(__file__).with_name("certificates.yaml")


@dataclass(frozen=True)
class Certificate:
    """A designation kind that is not a tier (e.g. high-tech enterprise): labels and validity."""

    kind: str
    label_zh: str
    label_en: str
    validity_years: int
    validity_verified: bool
    note: str | None = None


@lru_cache(maxsize=1)
def certificates() -> tuple[Certificate, ...]:
    """Designation kinds besides the tiers, read from certificates.yaml."""
    raw = yaml.safe_load(CERTIFICATES_FILE.read_text(encoding="utf-8"))
    return tuple(Certificate(**entry) for entry in raw)


@lru_cache(maxsize=1)
def validity_periods() -> tuple[tuple[str, date | None, int], ...]:
    """(kind, from date or None, years), newest first per kind: the tier packs' validity_years by
    their effective date, then the tier's or certificate's default (from None)."""
    out: list[tuple[str, date | None, int]] = []
    for t in tiers():
        dated = [p for p in packs_of_kind("enterprise_tier") if p.tier == t.kind and "validity_years" in p.parameters]
        for p in sorted(dated, key=lambda p: p.effective_from, reverse=True):
            out.append((t.kind, p.effective_from, int(p.parameters["validity_years"])))
        out.append((t.kind, None, t.validity_years))
    out += [(c.kind, None, c.validity_years) for c in certificates()]
    return tuple(out)


def validity_years(kind: str, start: date) -> int:
    """Years a designation of `kind` starting on `start` lasts when its end date is not recorded."""
    for k, since, years in validity_periods():
        if k == kind and (since is None or since <= start):
            return years
    raise ValueError(f"no validity period known for designation kind {kind!r}")


def derived_end(kind: str, start: date) -> date:
    """The last valid day of a designation with no recorded end: start + validity years - 1 day."""
    years = validity_years(kind, start)
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February -> 1 March of a common year
        end = date(start.year + years, 3, 1)
    return date.fromordinal(end.toordinal() - 1)


def start_sql(alias: str = "") -> str:
    """SQL of a designation's first valid day."""
    a = f"{alias}." if alias else ""
    return f"COALESCE(CAST({a}valid_from AS DATE), MAKE_DATE(CAST({a}year AS INTEGER), 1, 1))"


Periods = tuple[tuple[str, date | None, int], ...]


def reformed_periods(base, reformed) -> Periods | None:
    """The validity periods with a reformed tier pack's `validity_years` in place of its base's (the
    period of that tier from the pack's effective date), or None when the reform leaves it unchanged.

    A what-if of the validity period changes which designations count on a date, so the reformed side
    of a simulation reads facts derived with these periods (decision 1205)."""
    years = reformed.parameters.get("validity_years")
    if reformed.kind != "enterprise_tier" or not reformed.tier or years is None:
        return None
    if years == base.parameters.get("validity_years"):
        return None
    since = reformed.effective_from
    periods = [p for p in validity_periods() if not (p[0] == reformed.tier and p[1] == since)]
    first = next(i for i, p in enumerate(periods) if p[0] == reformed.tier)
    # Newest first per kind: the reformed period goes before every older period of the tier.
    at = next((i for i, p in enumerate(periods) if p[0] == reformed.tier and (p[1] is None or p[1] < since)), first)
    periods.insert(at, (reformed.tier, since, int(years)))
    return tuple(periods)


def end_sql(alias: str = "", periods: Periods | None = None) -> str:
    """SQL of a designation's last valid day (recorded, else derived by the rule above; `periods`
    replaces the shipped packs' validity periods, for a what-if)."""
    a = f"{alias}." if alias else ""
    start = start_sql(alias)
    whens = " ".join(
        f"WHEN {a}kind = '{k}'" + (f" AND {start} >= DATE '{since.isoformat()}'" if since else "") + f" THEN {n}"
        for k, since, n in (periods if periods is not None else validity_periods())
    )
    years = f"CASE {whens} END"
    return (f"COALESCE(CAST({a}valid_until AS DATE), "
            f"CAST({start} + TO_YEARS(CAST({years} AS INTEGER)) - INTERVAL 1 DAY AS DATE))")


def held_sql(on: date | str, alias: str = "", periods: Periods | None = None) -> str:
    """SQL test: the designation counts on date `on` (a date, or SQL giving one): start <= on <= end."""
    d = f"DATE '{on.isoformat()}'" if isinstance(on, date) else on
    return f"({start_sql(alias)} <= {d} AND {end_sql(alias, periods)} >= {d})"


def held_rows(designation, on: date):
    """The rows of a designation frame (Polars or Arrow: kind, year, valid_from, valid_until, ...) that
    count on date `on` (a Polars frame)."""
    import duckdb
    import polars as pl

    con = duckdb.connect()
    con.register("d", designation.to_arrow() if isinstance(designation, pl.DataFrame) else designation)
    out = con.sql(f"SELECT * FROM d WHERE {held_sql(on, 'd')}").pl()
    con.close()
    return out


def cluster_date(year: int) -> date:
    """The date D at which a cluster evaluation for data year Y counts designations: 31 December Y."""
    return date(year, 12, 31)
