"""The import benchmark's generated data is a valid file (the benchmark times real imports)."""

from __future__ import annotations

from smecluster.benchmarks.imports import generate_enterprises_csv, run_import_bench


def test_generated_rows_import_without_a_problem(tmp_path):
    """Every generated enterprise row passes all checks and is stored, and a re-import changes nothing."""
    path = generate_enterprises_csv(500, tmp_path / "e.csv")
    (figure,) = run_import_bench(path, ["sqlite"], 500, tmp_path)
    assert figure.inserted == 500 and figure.database == "SQLite"
