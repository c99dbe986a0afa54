"""The re-review watch as the CLI, the web and the reports use it: recognised clusters, their
re-review year, criteria trends and risk, and the yearly reports filed (decisions 1325-1327)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smecluster.accounts.roles import region_prefix
from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.analytics.snapshot import load_snapshot
from smecluster.analytics.watch import TREND_WINDOW, leaf_criteria, watch_tables
from smecluster.policy.compile import indicator_column
from smecluster.policy.pack import Pack, load_pack
from smecluster.registry.cluster_report import ClusterReport
from smecluster.registry.models import Cluster, Region
from smecluster.services.clusters import latest_year
from smecluster.settings import province
from smecluster.workflow.definition import Workflow, load_workflow
from smecluster.workflow.models import Application, Transition

# Stages of a cluster that holds a recognition the watch follows.
WATCHED_STAGES = ("recognised", "re_review")
RECOGNISING_ACTIONS = ("recognise", "keep")
DEFAULT_MARGIN = 0.10


@dataclass
class Recognition:
    """A recognised cluster and the dates of its recognition."""

    cluster_id: int
    code: str
    name: str
    county_code: str
    county_name: str
    stage: str
    recognised_on: date | None
    valid_until: date | None
    re_review_year: int | None  # None: not recognised (a dossier of an applicant: no projection)
    estimated: bool  # no recorded recognition date: the application year stands in for it


@dataclass
class Watch:
    """The watch of one calendar year: its clusters (each a dict, see `cluster_entry`) and parameters."""

    year: int
    data_year: int | None
    margin: float
    validity_years: int
    report_due: str
    policy: dict[str, str]
    clusters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def at_risk(self) -> list[dict[str, Any]]:
        """Clusters with at least one condition at risk."""
        return [c for c in self.clusters if c["at_risk"]]

    @property
    def due(self) -> list[dict[str, Any]]:
        """Clusters whose re-review falls in the watch year."""
        return [c for c in self.clusters if c["re_review_year"] == self.year]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dates as ISO text)."""
        return plain({**asdict(self), "due_for_re_review": [c["id"] for c in self.due],
                       "at_risk_clusters": [c["id"] for c in self.at_risk]})


def plain(value: Any) -> Any:
    """Dates as ISO text, keys as text, through dicts and lists (for JSON)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def watch_margin(workflow: Workflow) -> float:
    """The share of a threshold within which a passing value counts as at risk (workflow pack data)."""
    return float(workflow.parameters.get("watch_margin", DEFAULT_MARGIN))


def recognitions(session: Session, workflow: Workflow, prefix: str = "") -> list[Recognition]:
    """Clusters in a recognised (or re-review) stage whose county starts with `prefix`.

    The stage is the newest application's, else the registry cluster's status. The recognition date is
    the last recognise/keep action; the re-review year is the year its validity ends.
    """
    latest = {a.cluster_id: a for a in session.scalars(select(Application).order_by(Application.id))}
    names = dict(session.execute(select(Region.code, Region.name)).all())
    recognised_on: dict[int, date] = {}
    for app_id, at in session.execute(
        select(Transition.application_id, Transition.at)
        .where(Transition.action.in_(RECOGNISING_ACTIONS)).order_by(Transition.id)
    ):
        recognised_on[app_id] = at.date()
    out = []
    for c in session.scalars(select(Cluster).where(Cluster.county_code.startswith(prefix)).order_by(Cluster.id)):
        app = latest.get(c.id)
        stage = app.stage if app is not None else c.status
        if stage not in WATCHED_STAGES:
            continue
        on = recognised_on.get(app.id) if app is not None else None
        until = app.valid_until if app is not None else None
        if until is not None:  # the day validity started (the action's date, not the clock time it was recorded)
            on = _years_before(until, int(workflow.parameters["validity_years"]))
        elif on is not None:
            until = workflow.validity_end(on)
        estimated = until is None
        year = until.year if until is not None else (c.year or date.today().year) + int(
            workflow.parameters["validity_years"])
        out.append(Recognition(c.id, c.code, c.name, c.county_code, names.get(c.county_code, ""), stage, on,
                               until, year, estimated))
    return out


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def report_due(workflow: Workflow, data_year: int) -> date:
    """The day the yearly report on `data_year` is due (the next year's `yearly_report_due`, MM-DD)."""
    month, day = (int(x) for x in str(workflow.parameters.get("yearly_report_due", "04-30")).split("-"))
    return date(data_year + 1, month, day)


def filed_reports(session: Session, cluster_ids: list[int]) -> dict[tuple[int, int], date]:
    """(cluster, data year) -> the first day a yearly report was filed: the imported reports, and the
    workflow's `yearly_report` actions (one recorded in year Y reports on Y - 1)."""
    filed: dict[tuple[int, int], date] = {}
    for r in session.scalars(select(ClusterReport).where(ClusterReport.cluster_id.in_(cluster_ids))):
        filed[(r.cluster_id, r.year)] = r.filed_on
    for cluster_id, at in session.execute(
        select(Application.cluster_id, Transition.at).join(Application, Application.id == Transition.application_id)
        .where(Transition.action == "yearly_report", Application.cluster_id.in_(cluster_ids))
    ):
        key = (cluster_id, at.year - 1)
        filed[key] = min(filed.get(key, at.date()), at.date())
    return filed


def report_rows(rec: Recognition, filed: dict[tuple[int, int], date], workflow: Workflow, year: int,
                today: date) -> list[dict[str, Any]]:
    """The yearly reports a recognised cluster owes up to the watch year, and the next one.

    A report is owed on every data year from the year of recognition; its state: on_time, late,
    missing (past due, not filed) or not_due.
    """
    years = int(workflow.parameters["validity_years"])
    first = rec.recognised_on.year if rec.recognised_on else (rec.re_review_year or year) - years
    rows = []
    for data_year in range(first, year + 1):
        due = report_due(workflow, data_year)
        if due.year > year + 1:
            break
        on = filed.get((rec.cluster_id, data_year))
        state = ("on_time" if on <= due else "late") if on else ("missing" if today > due else "not_due")
        rows.append({"year": data_year, "due": due, "filed_on": on, "state": state})
    return rows


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def cluster_entry(rec: Recognition, pack: Pack, tables, reports: list[dict]) -> dict[str, Any]:
    """One cluster of the watch: its recognition, each criterion's history, trend and risk, its reports."""
    cid = rec.cluster_id
    history = tables.history.filter(pl.col("cluster_id") == cid).sort("year")
    hist_status = tables.history_status.filter(pl.col("cluster_id") == cid).sort("year")
    trend = {r["column"]: r for r in tables.trend.filter(pl.col("cluster_id") == cid).iter_rows(named=True)}
    proj_status = tables.projected_status.filter(pl.col("cluster_id") == cid).to_dicts()
    risk = tables.risk.filter(pl.col("cluster_id") == cid).to_dicts()
    proj_status, risk = (proj_status[0] if proj_status else {}), (risk[0] if risk else {})
    top_of = {leaf.id: top.id for top in pack.criteria for leaf in top.walk()}
    criteria = []
    for c in leaf_criteria(pack):
        column = indicator_column(c.indicator, c.params)
        info = indicator_info(c.indicator)
        t = trend.get(column, {})
        criteria.append({
            "id": c.id, "title": c.title, "clause": c.clause, "indicator": c.indicator,
            "label_zh": info.label_zh, "label_en": info.label_en, "unit": info.unit,
            "comparator": c.comparator, "threshold": c.threshold, "verified": c.verified,
            "values": {y: _num(v) for y, v in zip(history["year"].to_list(), history[column].to_list(),
                                                 strict=True)} if column in history.columns else {},
            "statuses": dict(zip(hist_status["year"].to_list(), hist_status[c.id].to_list(), strict=True)),
            "latest": _num(t.get("latest")), "slope": _num(t.get("slope")), "points": t.get("points", 0),
            "projected": _num(t.get("projected")), "projected_status": proj_status.get(c.id),
            "at_risk": bool(risk.get(c.id)),
            # the condition it belongs to is at risk (a branch of an `any` near its threshold is not enough)
            "condition_at_risk": bool(risk.get(top_of.get(c.id, c.id))),
        })
    return {
        "id": cid, "code": rec.code, "name": rec.name, "county_code": rec.county_code,
        "county_name": rec.county_name, "stage": rec.stage, "recognised_on": rec.recognised_on,
        "valid_until": rec.valid_until, "re_review_year": rec.re_review_year, "estimated": rec.estimated,
        "at_risk": bool(risk.get("at_risk")),
        "risks": [c["id"] for c in criteria if c["at_risk"] and c["condition_at_risk"]],
        "criteria": criteria, "reports": reports,
    }


def compute_watch(
    engine: Engine, year: int | None = None, region: str | None = None, data_year: int | None = None,
    today: date | None = None, policy: str | None = None, cluster_ids: list[int] | None = None,
) -> Watch:
    """The watch for calendar year `year` (default: this year) over the recognised clusters of `region`.

    Indicators come from the registry's newest data year (or `data_year`); each criterion is evaluated
    for the TREND_WINDOW + 1 years up to it, trended over the last TREND_WINDOW and projected to the
    cluster's re-review year.
    """
    today = today or date.today()
    year = year or today.year
    workflow = load_workflow()
    pack = load_pack(policy or province().cluster_policy)
    prefix = region_prefix(region) if region else ""
    with Session(engine) as s:
        recs = recognitions(s, workflow, prefix)
        if cluster_ids is not None:
            recs = [r for r in recs if r.cluster_id in set(cluster_ids)]
        filed = filed_reports(s, [r.cluster_id for r in recs])
    margin = watch_margin(workflow)
    watch = Watch(year=year, data_year=None, margin=margin,
                  validity_years=int(workflow.parameters["validity_years"]),
                  report_due=str(workflow.parameters.get("yearly_report_due", "04-30")),
                  policy={"id": pack.id, "version": pack.version, "title": pack.title})
    data_year = data_year or latest_year(engine)
    if not recs or data_year is None:
        return watch
    watch.data_year = data_year
    snapshot = load_snapshot(engine, [r.cluster_id for r in recs], scope="clusters")
    tables = criteria_tables(snapshot, pack, recs, data_year, margin)
    watch.clusters = [cluster_entry(r, pack, tables, report_rows(r, filed, workflow, year, today)) for r in recs]
    return watch


def criteria_tables(snapshot, pack: Pack, recs: list[Recognition], data_year: int, margin: float):
    """The watch tables of the clusters of `recs` from a snapshot holding them."""
    due = pl.DataFrame({"cluster_id": [r.cluster_id for r in recs], "re_review_year": [r.re_review_year for r in recs]},
                       schema={"cluster_id": pl.Int64, "re_review_year": pl.Int64})
    return watch_tables(snapshot, pack, data_year, due, margin, TREND_WINDOW + 1)


def cluster_trend(engine: Engine, cluster_id: int, today: date | None = None, policy: str | None = None
                  ) -> dict[str, Any]:
    """One cluster's watch entry: criteria year by year and trend; projection and risk only when it is
    recognised (a cluster not yet recognised has no re-review year). KeyError for an unknown cluster."""
    today = today or date.today()
    workflow = load_workflow()
    pack = load_pack(policy or province().cluster_policy)
    with Session(engine) as s:
        cluster = s.get(Cluster, cluster_id)
        if cluster is None:
            raise KeyError(cluster_id)
        rec = next((r for r in recognitions(s, workflow, cluster.county_code) if r.cluster_id == cluster_id), None)
        if rec is None:
            region = s.get(Region, cluster.county_code)
            rec = Recognition(cluster.id, cluster.code, cluster.name, cluster.county_code,
                              region.name if region else "", cluster.status, None, None, None, False)
        filed = filed_reports(s, [cluster_id])
    data_year = latest_year(engine) or today.year - 1  # no yearly data yet: every value unknown
    snapshot = load_snapshot(engine, [cluster_id], scope="clusters")
    tables = criteria_tables(snapshot, pack, [rec], data_year, watch_margin(workflow))
    reports = report_rows(rec, filed, workflow, today.year, today) if rec.re_review_year else []
    return cluster_entry(rec, pack, tables, reports)
