"""Registry services used by the CLI and the web: import files of registry data, write templates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from smecluster.registry.import_kinds import ImportKind, kinds
from smecluster.registry.importer import ImportResult, import_file

if TYPE_CHECKING:
    from smecluster.registry.folder import FolderResult


def import_kinds() -> list[ImportKind]:
    """Every kind of file the registry imports (enterprises, enterprise_years, ... industries)."""
    return list(kinds().values())


def import_registry_file(
    engine: Engine,
    kind: str,
    path: str | Path,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejected_path: str | Path | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> ImportResult:
    """Check a .csv or .xlsx file of `kind` and store it.

    All-or-nothing unless `skip_invalid` (then good rows are stored and the rejected ones written to
    `rejected_path`, default FILE.rejected.csv); `dry_run` only checks. Every problem is in the result.
    """
    return import_file(
        engine,
        kind,
        path,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        rejected_path=rejected_path,
        on_phase=on_phase,
    )


def write_import_template(kind: str, path: str | Path) -> Path:
    """Write the blank Excel template of `kind` (Chinese headers, cell checks, column notes)."""
    from smecluster.registry.template import write_template  # openpyxl: only for this command

    return write_template(kind, path)


def import_registry_folder(
    engine: Engine,
    directory: str | Path,
    *,
    dry_run: bool = False,
    on_phase: Callable[[str], None] | None = None,
) -> FolderResult:
    """Import every registry file of a folder in one transaction, all or nothing (registry.folder)."""
    from smecluster.registry.folder import import_folder

    return import_folder(engine, directory, dry_run=dry_run, on_phase=on_phase)


def export_registry_csv(engine: Engine, directory: str | Path) -> dict[str, int]:
    """Write the registry as one CSV per import kind into `directory` (registry.export)."""
    from smecluster.registry.export import export_csv

    return export_csv(engine, directory)


def find_cluster(engine: Engine, cluster: str) -> dict:
    """A cluster by code or id: {id, code, name, county_code}; LookupError when there is none."""
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, code, name, county_code FROM cluster WHERE code = :c OR CAST(id AS TEXT) = :c"),
            {"c": str(cluster)},
        ).mappings().first()
    if row is None:
        raise LookupError(f"no cluster with code or id {cluster!r}")
    return dict(row)


def store_cluster_boundary(
    engine: Engine, cluster: str, path: str | Path, crs: str = "wgs84"
) -> tuple[dict, list[str]]:
    """Store a declared boundary file on a cluster (given by code or id); returns the cluster and warnings.

    The same reading and storing rule as the `cluster_boundaries` import kind (registry.boundaries).
    Raises LookupError for an unknown cluster and BoundaryError for an unreadable boundary.
    """
    from sqlalchemy import text

    from smecluster.registry.boundaries import boundary_geojson

    found = find_cluster(engine, cluster)
    path = Path(path)
    geojson, warnings = boundary_geojson(str(path.resolve()), path.parent, crs)
    with engine.begin() as conn:
        conn.execute(text("UPDATE cluster SET boundary_geojson = :g WHERE id = :i"), {"g": geojson, "i": found["id"]})
    return found, warnings
