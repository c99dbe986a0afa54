"""Data quality: which figures to doubt, and why (the CLI, the imports and the web call these).

Every check of smecluster/quality/checks.yaml runs over the whole registry at once (smecluster.quality.run);
the declared-against-computed check comes from the verdicts themselves. On a province-sized registry the
findings are kept beside the columnar snapshot, computed once per registry version (and checks file).
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine, func, select, text

from smecluster.quality.catalogue import SEVERITIES, Catalogue, load_checks
from smecluster.quality.run import (
    COLUMNS,
    FINDING_SCHEMA,
    Result,
    attach_frames,
    attach_parquet,
    connect,
    overlay,
    prepare,
)
from smecluster.quality.run import run_checks as run_sql
from smecluster.quality.sql import Context

DIGIT_SCHEMA = {"county_code": pl.Utf8, "year": pl.Int32, "n": pl.Int64, "mad": pl.Float64, "chi2": pl.Float64,
                "band": pl.Utf8, "flagged": pl.Boolean, "chi2_exceeds": pl.Boolean}
# column types of the tables read from the database (PostgreSQL's COPY gives every column as text)
TYPES = {
    "year": pl.Int32, "employees": pl.Int64, "rd_staff": pl.Int64, "level": pl.Utf8, "id": pl.Int64,
    "cluster_id": pl.Int64, "revenue": pl.Float64, "output": pl.Float64, "rd_spending": pl.Float64,
    "total_assets": pl.Float64, "total_liabilities": pl.Float64, "main_revenue": pl.Float64,
}
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class QualityReport:
    """Findings (with reasons and names), the digit tests and the summary per county."""

    year: int | None
    findings: pl.DataFrame
    digits: pl.DataFrame
    summary: pl.DataFrame
    catalogue: Catalogue = field(repr=False, default_factory=load_checks)


def _fingerprint(catalogue: Catalogue, size_case: str) -> str:
    """Names the kept findings: the checks, the size classes peers are grouped by and the code that runs
    them (a change of any computes them anew)."""
    from smecluster.quality import run, sql, sweep

    data = [(c.id, c.kind, c.severity, json.dumps(c.params, sort_keys=True)) for c in catalogue.checks]
    code = b"".join(Path(m.__file__).read_bytes() for m in (sql, run, sweep))
    return hashlib.sha256(json.dumps([data, size_case]).encode() + code).hexdigest()[:12]


def newest_year(engine: Engine) -> int | None:
    """The newest year with yearly figures (peers are compared in it unless a year is asked)."""
    from smecluster.registry.models import EnterpriseYear

    with engine.connect() as conn:
        return conn.execute(select(func.max(EnterpriseYear.year))).scalar()


def _read_tables(engine: Engine) -> dict[str, pl.DataFrame]:
    from smecluster.analytics.reader import read_frame

    frames = {}
    for table, cols in COLUMNS.items():
        names = [c.strip() for c in cols.split(",")]
        frame = read_frame(engine, f"SELECT {cols} FROM {table}")
        if frame.width == 0:
            frame = pl.DataFrame(schema={n: TYPES.get(n, pl.Utf8) for n in names})
        frames[table] = frame.select([pl.col(n).cast(TYPES.get(n, pl.Utf8), strict=False) for n in names])
    return frames


def _size_case() -> str:
    from smecluster.analytics.size_class import size_class_sql
    from smecluster.policy.pack import load_pack
    from smecluster.settings import province

    return size_class_sql(load_pack(province().size_policy))


def registry_checks(engine: Engine, peer_year: int | None, catalogue: Catalogue | None = None,
                    progress=None, incoming: dict[str, pl.DataFrame] | None = None) -> Result:
    """Every SQL check over the registry (the snapshot's columns when it is province-sized); with
    `incoming` (table -> rows of a file being imported), over the registry as the import would leave it."""
    from smecluster.analytics.stored_snapshot import current_snapshot

    catalogue = catalogue or load_checks()
    say = progress or (lambda _msg: None)
    context = Context(peer_year, _size_case())
    say("reading the registry snapshot")
    stored = current_snapshot(engine)

    def compute() -> Result:
        con = connect()
        try:
            prefix = "base_" if incoming else ""
            if stored is not None:
                attach_parquet(con, {t: str(stored.file(t)) for t in COLUMNS}, prefix)
            else:
                attach_frames(con, _read_tables(engine), prefix)
            if incoming:
                overlay(con, incoming, prefix)
            say("lining up the years")
            files = {t: str(stored.file(t)) for t in COLUMNS} if stored is not None and not incoming else None
            swept = prepare(con, catalogue, files, peer_year)
            say("running the checks")
            if swept is not None:
                context_now = replace(context, peer_rows=swept.peer, sources=swept.sources)
            else:
                context_now = context
            return run_sql(con, context_now, catalogue)
        finally:
            con.close()

    if stored is None or incoming:
        return compute()
    key = f"quality-{_fingerprint(catalogue, context.size_case)}-{peer_year}"
    memo: dict[str, Result] = {}

    def part(name: str) -> pa.Table:
        if "r" not in memo:
            memo["r"] = compute()
        return getattr(memo["r"], name).to_arrow()

    findings = pl.from_arrow(stored.cached(f"{key}-findings", lambda: part("findings")))
    digits = pl.from_arrow(stored.cached(f"{key}-digits", lambda: part("digits")))
    return Result(findings, digits)


def declared_findings(engine: Engine, year: int | None, catalogue: Catalogue | None = None) -> pl.DataFrame:
    """Declared against computed, every application with declared figures, from its verdict (the
    verdict flags each one; here they are all together, the largest difference first)."""
    from smecluster.registry.models import Cluster
    from smecluster.services.clusters import evaluate_clusters

    catalogue = catalogue or load_checks()
    checks = [c for c in catalogue.checks if c.kind == "declared_differs"]
    empty = pl.DataFrame(schema=FINDING_SCHEMA)
    if not checks:
        return empty
    with engine.connect() as conn:
        rows = conn.execute(select(Cluster.id, Cluster.county_code, Cluster.declared)).all()
    ids = [r.id for r in rows if _declared(r.declared)]
    if not ids:
        return empty
    county = {r.id: r.county_code for r in rows}
    # Every cluster's verdict once (on a province-sized registry: from the indicators kept beside the
    # snapshot, what `evaluate cluster --all` and the pages show), those with declared figures kept.
    wanted = set(ids)
    verdicts = [v for v in evaluate_clusters(engine, year=year) if int(v.cluster["id"]) in wanted]
    out = []
    for check in checks:
        tolerance = float(check.params["tolerance"])
        for v in verdicts:
            for c in _walk(v.criteria):
                if c.declared is None or c.value is None or c.value_source != "registry":
                    continue
                scale = max(abs(c.value), abs(c.declared), 1e-12)
                share = abs(c.value - c.declared) / scale
                if share > tolerance:
                    cid = int(v.cluster["id"])
                    out.append({"check": check.id, "uscc": None, "county_code": county.get(cid), "year": v.year,
                                "field": c.indicator, "value": float(c.declared),
                                "detail": f"computed {c.value:g}", "score": share, "cluster_id": cid,
                                "platform_id": None})
    return pl.DataFrame(out, schema=FINDING_SCHEMA) if out else empty


def _declared(value) -> bool:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    return bool(value)


def _walk(criteria):
    for c in criteria:
        yield c
        yield from _walk(c.children)


def quality_report(
    engine: Engine,
    county: str | None = None,
    cluster_id: int | None = None,
    year: int | None = None,
    progress=None,
) -> QualityReport:
    """Every finding (optionally only a county's, a cluster's or a year's) and the summary per county.

    `year` also sets the year peers are compared in (default: the newest year with figures).
    """
    catalogue = load_checks()
    peer_year = year or newest_year(engine)
    # the verdicts' declared figures meanwhile (their reads let go of the GIL as the checks' do)
    with ThreadPoolExecutor(1) as pool:
        declared = pool.submit(declared_findings, engine, year, catalogue)
        result = registry_checks(engine, peer_year, catalogue, progress)
        findings = pl.concat([result.findings, declared.result()])
    digits = result.digits.sort("county_code", "year", nulls_last=True)
    if cluster_id is not None:
        findings = _of_cluster(engine, findings, cluster_id)
    if county is not None:
        findings = findings.filter(pl.col("county_code") == county)
        digits = digits.filter(pl.col("county_code") == county)
    if year is not None:
        findings = findings.filter(pl.col("year").is_null() | (pl.col("year") == year))
        digits = digits.filter(pl.col("year") == year)
    findings = _describe(engine, findings, catalogue)
    return QualityReport(peer_year, findings, digits, summarise(findings, digits, peer_year), catalogue)


def members_of(engine: Engine, cluster_ids: list[int]) -> pl.DataFrame:
    """(cluster_id, uscc) of the given clusters, read with the ids in the SQL."""
    from smecluster.analytics.reader import read_frame

    if not cluster_ids:
        return pl.DataFrame(schema={"cluster_id": pl.Int64, "uscc": pl.Utf8})
    ids = ", ".join(str(int(i)) for i in cluster_ids)
    frame = read_frame(engine, f"SELECT cluster_id, uscc FROM cluster_member WHERE cluster_id IN ({ids})")
    if frame.width == 0:
        return pl.DataFrame(schema={"cluster_id": pl.Int64, "uscc": pl.Utf8})
    return frame.select(pl.col("cluster_id").cast(pl.Int64), pl.col("uscc").cast(pl.Utf8))


def by_cluster(engine: Engine, findings: pl.DataFrame, cluster_ids: list[int]) -> pl.DataFrame:
    """The findings touching each cluster: about its members, its platforms or its declaration
    (column `of_cluster`; a finding touching several clusters appears once for each)."""
    members = members_of(engine, cluster_ids)
    about_members = findings.join(members.rename({"cluster_id": "of_cluster"}), on="uscc", how="inner")
    own = findings.filter(pl.col("cluster_id").is_in(cluster_ids) & pl.col("uscc").is_null()
                          | pl.col("platform_id").is_not_null() & pl.col("cluster_id").is_in(cluster_ids))
    own = own.with_columns(pl.col("cluster_id").alias("of_cluster"))
    return pl.concat([about_members, own.select(about_members.columns)]).unique(maintain_order=True)


def _of_cluster(engine: Engine, findings: pl.DataFrame, cluster_id: int) -> pl.DataFrame:
    return by_cluster(engine, findings, [cluster_id]).drop("of_cluster").unique(maintain_order=True)


def _describe(engine: Engine, findings: pl.DataFrame, catalogue: Catalogue) -> pl.DataFrame:
    """Severity, group, reasons (zh, en) and the firm's name beside each finding; most doubtful first."""
    from smecluster.analytics.reader import read_frame

    info = pl.DataFrame(
        {"check": [c.id for c in catalogue.checks], "severity": [c.severity for c in catalogue.checks],
         "group": [c.group for c in catalogue.checks],
         "reason_zh": [c.reason("zh", band_zh="≥ " + _flag_band(c, "zh")) for c in catalogue.checks],
         "reason_en": [c.reason("en", band_en="≥ " + _flag_band(c, "en")) for c in catalogue.checks],
         "rank": [SEVERITY_RANK[c.severity] for c in catalogue.checks]},
        schema={"check": pl.Utf8, "severity": pl.Utf8, "group": pl.Utf8, "reason_zh": pl.Utf8, "reason_en": pl.Utf8,
                "rank": pl.Int64},
    )
    codes = findings["uscc"].drop_nulls().unique()
    names = pl.DataFrame(schema={"uscc": pl.Utf8, "name": pl.Utf8})
    if codes.len():
        # the names of the flagged firms only, their codes in the SQL (bounded batches)
        parts = []
        listed = codes.to_list()
        for start in range(0, len(listed), 5_000):
            batch = ", ".join("'" + c.replace("'", "''") + "'" for c in listed[start:start + 5_000])
            frame = read_frame(engine, f"SELECT uscc, name FROM enterprise WHERE uscc IN ({batch})")
            if frame.width:
                parts.append(frame.select(pl.col("uscc").cast(pl.Utf8), pl.col("name").cast(pl.Utf8)))
        if parts:
            names = pl.concat(parts)
    out = findings.join(info, on="check", how="left").join(names, on="uscc", how="left")
    # most doubtful first; ties in a fixed order, so that two runs over one registry print the same
    ties = ["check", "county_code", "uscc", "year", "field", "cluster_id", "platform_id", "value", "detail"]
    out = out.sort(["rank", "score", *ties], descending=[False, True] + [False] * len(ties),
                   nulls_last=True).drop("rank")
    first = ["check", "severity", "uscc", "name", "county_code", "year", "field", "value", "detail"]
    return out.select(first + [c for c in out.columns if c not in first])


def _flag_band(check, locale: str) -> str:
    bands = check.params.get("bands") or []
    flag = check.params.get("flag_from")
    for b in bands:
        if b["id"] == flag:
            return b["zh"] if locale == "zh" else b["en"]
    return ""


def summarise(findings: pl.DataFrame, digits: pl.DataFrame, year: int | None) -> pl.DataFrame:
    """One row per county: findings by severity, firms flagged, and the digit test of `year`."""
    counts = findings.filter(pl.col("county_code").is_not_null()).group_by("county_code").agg(
        [pl.len().alias("findings"), pl.col("uscc").drop_nulls().n_unique().alias("firms")]
        + [(pl.col("severity") == s).sum().alias(s) for s in SEVERITIES]
    )
    shown = digits.filter(pl.col("year") == year) if year is not None else digits.head(0)
    shown = shown.select("county_code", pl.col("n").alias("digits_n"), pl.col("mad").round(4).alias("digits_mad"),
                         pl.col("chi2").round(1).alias("digits_chi2"), pl.col("band").alias("digits_band"))
    out = counts.join(shown, on="county_code", how="full", coalesce=True)
    return out.with_columns([pl.col(c).fill_null(0) for c in ("findings", "firms", *SEVERITIES)]).sort(
        ["high", "findings", "county_code"], descending=[True, True, False])


def application_ranking(engine: Engine, findings: pl.DataFrame, applications: list[dict]) -> list[dict]:
    """Applications (dicts with at least `id` and `cluster_id`) with their findings counted by severity,
    those with the most severe and most findings first."""
    ids = [int(a["cluster_id"]) for a in applications]
    touched = by_cluster(engine, findings, ids)
    counts = touched.group_by("of_cluster").agg(
        [pl.len().alias("findings")] + [(pl.col("severity") == s).sum().alias(s) for s in SEVERITIES])
    by_id = {r["of_cluster"]: r for r in counts.iter_rows(named=True)}  # one row per application
    out = []
    for a in applications:
        row = by_id.get(int(a["cluster_id"]), {})
        out.append({**a, "findings": row.get("findings", 0), **{s: row.get(s, 0) for s in SEVERITIES}})
    return sorted(out, key=lambda a: (-a["high"], -a["medium"], -a["findings"], a["id"]))


def doubtful_fields(findings: pl.DataFrame) -> pl.DataFrame:
    """(uscc, field, year) of every finding about a firm's figure (what a verdict may rest on)."""
    return findings.filter(pl.col("uscc").is_not_null()).select("uscc", "field", "year", "check").unique()


def mark_doubtful(engine: Engine, verdict, findings: pl.DataFrame, catalogue: Catalogue | None = None) -> None:
    """Mark each criterion of `verdict` whose indicator rests on a flagged figure of the cluster (its
    members' figures in the years it reads, its platforms, its membership): `doubtful` lists the checks.
    The status is left as it is: a doubt is for the reviewer, not a verdict."""
    catalogue = catalogue or load_checks()
    cid = int(verdict.cluster["id"])
    touched = by_cluster(engine, findings, [cid])
    if touched.is_empty():
        return
    rows = touched.select("check", "field", "year", "platform_id", "uscc").to_dicts()  # one cluster's findings
    for c in _walk(verdict.criteria):
        dep = catalogue.depends.get(getattr(c, "indicator", None) or "")
        if not dep:
            continue
        fields, back = set(dep["fields"]), int(dep.get("years", 0))
        hits = sorted({
            r["check"] for r in rows
            if ((r["field"] in fields and (r["year"] is None or verdict.year - back <= r["year"] <= verdict.year))
                or ("platform" in fields and r["platform_id"] is not None)
                or ("membership" in fields and r["field"] == "membership")
                or (r["field"] == "row" and fields & set(FIGURE_FIELDS) and r["year"] is not None
                    and verdict.year - back <= r["year"] <= verdict.year))
        })
        if hits:
            c.doubtful = hits


FIGURE_FIELDS = ("revenue", "output", "rd_spending", "employees", "rd_staff", "total_assets", "total_liabilities")


def import_findings(engine: Engine, incoming: dict[str, pl.DataFrame], stored: bool) -> pl.DataFrame:
    """Findings about the rows of an import (table -> rows as stored): over the registry after the load
    (`stored`), or as the import would leave it (a dry run: the file's rows in place of the stored ones).
    A finding never refuses a row."""
    incoming = {t: f for t, f in incoming.items() if f is not None and f.height}
    if not incoming:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    catalogue = load_checks()
    if stored:
        findings = quality_report(engine).findings
    else:
        years = [int(f["year"].max()) for f in incoming.values() if "year" in f.columns]
        peer_year = max([newest_year(engine) or 0, *years]) or None
        findings = _describe(engine, registry_checks(engine, peer_year, catalogue, incoming=incoming).findings,
                             catalogue)
    codes = pl.concat([f["uscc"].cast(pl.Utf8) for f in incoming.values() if "uscc" in f.columns] or
                      [pl.Series("uscc", [], dtype=pl.Utf8)])
    about = pl.col("uscc").is_in(codes.unique().implode())
    if "platform" in incoming:
        names = incoming["platform"]["name"].implode()
        about = about | ((pl.col("check") == "duplicate_platforms")
                         & pl.col("detail").str.split(" (").list.first().is_in(names))
    return findings.filter(about)


def registry_year_count(engine: Engine) -> int:
    """How many yearly rows the registry holds (for progress messages)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM enterprise_year")).scalar() or 0
