"""Import benchmark: N generated enterprise rows from CSV, checked and stored into SQLite and PostgreSQL.

Generation is outside the timing; the timed part is the whole `smecluster import enterprises FILE`
path (read, check, reference checks, upsert in one transaction) on a fresh database.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import create_engine, insert, text

from smecluster.benchmarks.memory import peak_memory_mb
from smecluster.db import get_engine, open_database
from smecluster.registry.importer import import_file
from smecluster.registry.industries import load_shipped_industries, shipped_industries
from smecluster.registry.models import Region
from smecluster.registry.uscc import make_uscc

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Real Jiangsu county-level divisions (GB/T 2260) the generated enterprises are spread over.
COUNTIES = {
    "320481": "溧阳市",
    "320581": "常熟市",
    "320206": "惠山区",
    "320312": "铜山区",
    "320114": "雨花台区",
    "320583": "昆山市",
    "320281": "江阴市",
    "320282": "宜兴市",
    "320585": "太仓市",
    "321282": "靖江市",
}


@dataclass
class Figure:
    """One timed run."""

    database: str
    rows: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    inserted: int = 0
    peak_mb: float = 0.0
    reimport_seconds: float = 0.0  # the same file again: every row already stored and unchanged

    @property
    def rows_per_second(self) -> float:
        """Throughput of the whole import."""
        return self.rows / self.seconds if self.seconds else float("inf")




def generate_enterprises_csv(rows: int, path: Path, seed: int = 7) -> Path:
    """Write `rows` valid enterprise rows (unique credit codes) with Chinese headers to `path`."""
    rng = np.random.default_rng(seed)
    counties = np.array(list(COUNTIES))
    classes = np.array([r["code"] for r in shipped_industries() if r["level"] == 4])
    county = counties[rng.integers(0, len(counties), rows)]
    serial = pl.Series(np.arange(rows, dtype=np.int64)).cast(pl.String).str.zfill(9)
    uscc = make_uscc(pl.Series(np.char.add("91", county)) + serial)
    frame = pl.DataFrame(
        {
            "统一社会信用代码": uscc,
            "企业名称": "基准测试企业" + serial + "有限公司",
            "所在县区代码": county,
            "行业代码": classes[rng.integers(0, len(classes), rows)],
            "经度": np.round(rng.uniform(118.0, 121.5, rows), 6),
            "纬度": np.round(rng.uniform(31.0, 34.5, rows), 6),
            "成立日期": (np.datetime64("1990-01-01") + rng.integers(0, 12000, rows)).astype(str),
        }
    )
    frame.write_csv(path)
    return path


def _reference_rows(engine) -> None:
    """The counties used and the shipped industry table (what an enterprise row refers to)."""
    with engine.begin() as conn:
        conn.execute(insert(Region), [{"code": "320000", "name": "江苏省", "level": "province"}])
        conn.execute(
            insert(Region),
            [
                {"code": c, "name": n, "level": "county", "parent_code": c[:4] + "00"}
                for c, n in COUNTIES.items()
            ],
        )
    load_shipped_industries(engine)


def _fresh_database(url: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A URL of an empty database (a new SQLite file or a new PostgreSQL schema) and its clean-up."""
    if url == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    scoped = f"{url}{sep}options=-csearch_path%3D{schema}"

    def drop() -> None:
        get_engine(scoped).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return scoped, drop


def postgres_reachable(url: str = DEFAULT_PG) -> bool:
    """Whether a PostgreSQL server answers at `url`."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def run_import_bench(csv_path: Path, targets: list[str], rows: int, workdir: Path) -> list[Figure]:
    """Time the import of `csv_path` into a fresh database per target ('sqlite' or a PostgreSQL URL)."""
    figures = []
    for target in targets:
        url, cleanup = _fresh_database(target, workdir)
        try:
            engine = open_database(url)
            _reference_rows(engine)
            start = time.perf_counter()
            result = import_file(engine, "enterprises", csv_path)
            seconds = time.perf_counter() - start
            if not result.ok:
                raise RuntimeError(f"benchmark data was refused: {result.errors.head(5)}")
            name = "SQLite" if target == "sqlite" else "PostgreSQL"
            figure = Figure(name, rows, seconds, result.seconds, result.stored.inserted, peak_memory_mb())
            start = time.perf_counter()
            again = import_file(engine, "enterprises", csv_path)
            figure.reimport_seconds = time.perf_counter() - start
            if again.stored.inserted or again.stored.updated:
                raise RuntimeError("re-importing the benchmark file changed the database")
            figures.append(figure)
        finally:
            cleanup()
    return figures


def bench_import(rows: int, db: list[str] | None = None) -> tuple[list[Figure], float, float]:
    """Generate `rows` rows, time their import into each database; also the generation time and size."""
    targets = db or (["sqlite"] + ([DEFAULT_PG] if postgres_reachable() else []))
    with tempfile.TemporaryDirectory(prefix="smecluster-bench-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        csv_path = generate_enterprises_csv(rows, workdir / "enterprises.csv")
        generated = time.perf_counter() - start
        size_mb = csv_path.stat().st_size / 1e6
        return run_import_bench(csv_path, targets, rows, workdir), generated, size_mb
