"""Benchmark of the tier evaluation at registry scale (smecluster bench tiers; bench/bench_tiers.py).

N fictional firms are generated in memory outside the timing. Timed in the same run: (1) every tier
in force evaluated with full evidence by the compiled query, (2) the innovative-SME pack alone by the
compiled query, and (3) ONE hand-written DuckDB query scoring the six innovative-SME indicators
(points, statuses, total and pass test) from the same Arrow table. Each timing is the best of
`repeat` runs, each result fetched as an Arrow table; CPU seconds (all threads) are reported too,
as they depend less on what else the machine runs.
"""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pyarrow as pa

from smecluster.analytics.tier_query import compile_tiers
from smecluster.benchmarks.memory import peak_memory_mb
from smecluster.demo.tier_profiles import synthetic_facts
from smecluster.policy.tiers import tier_packs

BATCH = 122_880
ON = date(2026, 6, 30)  # the 2026 packs (new applications), in force since 2026-04-01

HAND_SQL = """
WITH i AS (
  SELECT uscc,
    CASE WHEN ip_class1 IS NULL OR ip_class2 IS NULL OR ip_class1_high_value IS NULL OR ip_class1_own IS NULL
         THEN NULL WHEN ip_class1_high_value > 0 THEN 4 WHEN ip_class1_own > 0 THEN 3 WHEN ip_class1 > 0 THEN 2
         WHEN ip_class2 > 0 THEN 1 ELSE 0 END AS ip_level,
    ROUND(rd_spending / NULLIF(revenue, 0), 4) AS rd_intensity,
    ROUND(main_revenue / NULLIF(main_revenue_prev, 0) - 1, 4) AS main_growth,
    ROUND(total_liabilities / NULLIF(total_assets, 0), 4) AS debt_ratio,
    strategic_emerging,
    ROUND(main_revenue / NULLIF(revenue, 0), 4) AS main_share
  FROM facts),
p AS (
  SELECT uscc,
    CASE ip_level WHEN 4 THEN 20 WHEN 3 THEN 15 WHEN 2 THEN 10 WHEN 1 THEN 5 WHEN 0 THEN 0 END AS p_ip,
    CASE WHEN rd_intensity >= 0.05 THEN 20 WHEN rd_intensity >= 0.03 THEN 15 WHEN rd_intensity >= 0.02 THEN 10
         WHEN rd_intensity >= 0.01 THEN 5 WHEN rd_intensity IS NOT NULL THEN 0 END AS p_rd,
    CASE WHEN main_growth >= 0.15 THEN 20 WHEN main_growth >= 0.10 THEN 15 WHEN main_growth >= 0.05 THEN 10
         WHEN main_growth >= 0 THEN 5 WHEN main_growth IS NOT NULL THEN 0 END AS p_growth,
    CASE WHEN debt_ratio <= 0.55 THEN 10 WHEN debt_ratio <= 0.75 THEN 5 WHEN debt_ratio IS NOT NULL THEN 0 END
      AS p_debt,
    CASE WHEN strategic_emerging THEN 10 WHEN NOT strategic_emerging THEN 5 END AS p_sei,
    CASE WHEN main_share >= 0.70 THEN 20 WHEN main_share >= 0.60 THEN 15 WHEN main_share >= 0.55 THEN 10
         WHEN main_share >= 0.50 THEN 5 WHEN main_share IS NOT NULL THEN 0 END AS p_main
  FROM i)
SELECT uscc, p_ip, p_rd, p_growth, p_debt, p_sei, p_main,
  CASE WHEN p_ip IS NULL THEN 'unknown' ELSE 'pass' END AS s_ip,
  CASE WHEN p_rd IS NULL THEN 'unknown' ELSE 'pass' END AS s_rd,
  CASE WHEN p_growth IS NULL THEN 'unknown' ELSE 'pass' END AS s_growth,
  CASE WHEN p_debt IS NULL THEN 'unknown' ELSE 'pass' END AS s_debt,
  CASE WHEN p_sei IS NULL THEN 'unknown' ELSE 'pass' END AS s_sei,
  CASE WHEN p_main IS NULL THEN 'unknown' ELSE 'pass' END AS s_main,
  p_ip + p_rd + p_growth + p_debt + p_sei + p_main AS score,
  CASE WHEN p_ip + p_rd + p_growth + p_debt + p_sei + p_main IS NULL THEN 'unknown'
       WHEN p_ip + p_rd + p_growth + p_debt + p_sei + p_main >= 60 AND p_ip + p_rd >= 20
            AND p_growth + p_debt >= 15 AND p_sei + p_main >= 15 THEN 'pass' ELSE 'fail' END AS score_status
FROM p
"""


def _best(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, float, int, int]:
    """Best wall time and best CPU time (all threads) of `repeat` runs, rows and columns returned."""
    best, best_cpu, rows, cols = float("inf"), float("inf"), 0, 0
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        table = con.sql(sql).to_arrow_table()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        rows, cols = table.num_rows, table.num_columns
        del table
    return best, best_cpu, rows, cols


def run(n: int, repeat: int = 3, seed: int = 20260401) -> dict:
    """Generate n firms, time the three queries; figures as a dict (seconds, GB, ratios)."""
    start = time.perf_counter()
    # Record batches of DuckDB's row-group size, as a Parquet file or a database read would give.
    facts = pa.Table.from_batches(synthetic_facts(n, seed).to_arrow().to_batches(max_chunksize=BATCH))
    generated = time.perf_counter() - start
    con = duckdb.connect()
    con.register("facts", facts)
    every = compile_tiers(tier_packs(ON))
    innovative = compile_tiers(tier_packs(ON, "innovative_sme"))
    t_all, cpu_all, rows, cols = _best(con, every.sql, repeat)
    t_innov, cpu_innov, _, cols_innov = _best(con, innovative.sql, repeat)
    t_hand, cpu_hand, _, cols_hand = _best(con, HAND_SQL, repeat)
    return {
        "enterprises": rows, "generate_s": generated,
        "threads": con.execute("SELECT current_setting('threads')").fetchall()[0][0],
        "tiers": [p.pack.id for p in every.tiers], "evidence_columns": cols,
        "all_tiers_s": t_all, "innovative_only_s": t_innov, "innovative_columns": cols_innov,
        "hand_sql_s": t_hand, "hand_columns": cols_hand,
        "cpu_all_tiers_s": cpu_all, "cpu_innovative_only_s": cpu_innov, "cpu_hand_sql_s": cpu_hand,
        "cpu_ratio": cpu_all / cpu_hand,
        "peak_memory_gb": peak_memory_mb() / 1024,
        "ratio_innovative_vs_hand": t_innov / t_hand, "ratio": t_all / t_hand,
    }
