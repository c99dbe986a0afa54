"""YAML scenario tests of the re-review watch: indicator values by year in, trend, projection, projected
status and risk out (the same functions the watch runs on the registry; smecluster.analytics.watch).

    pack: jiangsu-cluster-2023
    watch: {year: 2025, re_review_year: 2029, margin: 0.10}
    cases:
      - name: falling cloud adoption is flagged before it fails
        history: {cloud_share: {2023: 0.47, 2024: 0.44, 2025: 0.41}}
        expect: {projected: {cloud_share: 0.29}, projected_status: {J7: fail}, cluster_at_risk: true}

Expect keys: status_<year> and projected_status (criterion -> status), slope and projected (indicator
column -> number or null, compared to 1e-9), at_risk (criterion -> bool), cluster_at_risk (bool).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from smecluster.analytics.watch import project, risk_table, trends
from smecluster.policy.compile import indicator_column, required_columns
from smecluster.policy.evaluate import statuses
from smecluster.policy.pack import load_pack
from smecluster.policy.scenario_result import ScenarioFailure, read_yaml

TOLERANCE = 1e-9


def run_watch_scenarios(path: Path | str) -> tuple[int, list[ScenarioFailure]]:
    """Run every case of a watch scenario file; returns (cases run, failures)."""
    spec = read_yaml(path)
    pack = load_pack(spec["pack"])
    params = spec["watch"]
    year, margin = int(params["year"]), float(params["margin"])
    columns = sorted({indicator_column(n, dict(p)) for n, p in required_columns(pack.criteria)})
    cases = spec["cases"]
    rows = []
    for i, case in enumerate(cases):
        years = sorted({int(y) for values in case["history"].values() for y in values} | {year})
        for y in years:
            row = {"cluster_id": i, "year": y}
            for col in columns:
                v = case["history"].get(col, {}).get(y)
                row[col] = None if v is None else float(v)
            rows.append(row)
    history = pl.DataFrame(rows, schema={"cluster_id": pl.Int64, "year": pl.Int32, **{c: pl.Float64 for c in columns}})
    due = pl.DataFrame({"cluster_id": list(range(len(cases))),
                        "re_review_year": [int(params["re_review_year"])] * len(cases)})
    projection = project(trends(history, year), due, year)
    projected = projection.pivot(on="column", index="cluster_id", values="projected")
    projected = projected.with_columns([pl.col(c).cast(pl.Float64) for c in projected.columns if c != "cluster_id"])
    got_status = {r["cluster_id"]: r for r in statuses(projected, pack, "cluster_id").to_dicts()}
    got_risk = {r["cluster_id"]: r for r in risk_table(projection, pack, margin).to_dicts()}
    keyed = history.with_columns((pl.col("cluster_id") * 10_000 + pl.col("year")).alias("_row"))
    yearly = {r["_row"]: r for r in statuses(keyed.drop("cluster_id", "year"), pack, "_row").to_dicts()}
    numbers = {(r["cluster_id"], r["column"]): r for r in projection.to_dicts()}
    failures = []
    for i, case in enumerate(cases):
        def check(what: str, expected, got, case=case) -> None:
            if isinstance(expected, float | int) and not isinstance(expected, bool) and got is not None:
                ok = abs(float(got) - float(expected)) <= TOLERANCE
            else:
                ok = got == expected
            if not ok:
                failures.append(ScenarioFailure(str(path), case["name"], what, expected, got))

        for key, expected in case["expect"].items():
            if key == "cluster_at_risk":
                check(key, expected, got_risk[i]["at_risk"])
            elif key.startswith("status_"):
                y = int(key.removeprefix("status_"))
                for cid, status in expected.items():
                    check(f"{key}.{cid}", status, yearly[i * 10_000 + y][cid])
            elif key == "projected_status":
                for cid, status in expected.items():
                    check(f"{key}.{cid}", status, got_status[i][cid])
            elif key == "at_risk":
                for cid, flag in expected.items():
                    check(f"{key}.{cid}", flag, got_risk[i][cid])
            elif key in ("slope", "projected"):
                for col, value in expected.items():
                    check(f"{key}.{col}", value, numbers[(i, col)][key])
            else:
                failures.append(ScenarioFailure(str(path), case["name"], key, "a known expect key", key))
    return len(cases), failures
