"""Assign many points to counties at once: a grid of county ids with exact tests only near borders.

The index covers the counties' extent with square cells of `cell` degrees. A cell that lies wholly
inside one county stores that county; a cell that no county touches stores "none"; a cell that a
border crosses stores a short list of pieces: each touching county clipped to the cell. A lookup is
then one array index per point, and only points in border cells get an exact point-in-polygon test,
against a clipped piece of a few dozen vertices rather than a whole county
(docs/decisions/0402-county-assignment-grid.md).

Coordinates are WGS-84 lon/lat, the system of the county boundaries.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from smecluster.geo.counties import boundary_version, cache_root, county_geometries

NONE = -1  # grid value: no county here
DEFAULT_CELL_DEG = 0.01  # about 1 km: border cells then hold about 5 % of a province's points


@dataclass(frozen=True)
class CountyIndex:
    """Grid index of county polygons; build it with `county_index`."""

    codes: NDArray[np.str_]  # county codes, position = county id
    x0: float
    y0: float
    cell: float
    grid: NDArray[np.int32]  # (ny, nx): county id >= 0, NONE, or -(2 + border-cell id)
    piece_start: NDArray[np.int64]  # border-cell id -> first piece; length n_border + 1
    piece_county: NDArray[np.int32]  # county id of each piece
    pieces: NDArray[np.object_] | LazyPieces  # county polygon clipped to its border cell

    @property
    def border_cells(self) -> int:
        """Number of cells that a county border crosses."""
        return len(self.piece_start) - 1

    def lookup(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int32]:
        """County id of each point (NONE where no county contains it)."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        ny, nx = self.grid.shape
        i = np.floor((x - self.x0) / self.cell)
        j = np.floor((y - self.y0) / self.cell)
        ok = (i >= 0) & (i < nx) & (j >= 0) & (j < ny)  # NaN compares False
        out = np.full(x.shape, NONE, dtype=np.int32)
        rows = np.flatnonzero(ok)
        value = self.grid[j[rows].astype(np.int64), i[rows].astype(np.int64)]
        out[rows] = np.maximum(value, NONE)
        border = value <= -2
        self._resolve_border(x, y, rows[border], -value[border] - 2, out)
        return out

    def _resolve_border(self, x: NDArray, y: NDArray, rows: NDArray, cell_id: NDArray, out: NDArray) -> None:
        """Exact tests for points in border cells, one candidate slot at a time."""
        start = self.piece_start[cell_id]
        count = self.piece_start[cell_id + 1] - start
        slot = 0
        while rows.size:
            has = count > slot
            rows, start, count = rows[has], start[has], count[has]
            if not rows.size:
                break
            piece = start + slot
            hit = shapely.intersects_xy(self.pieces[piece], x[rows], y[rows])
            out[rows[hit]] = self.piece_county[piece[hit]]
            rows, start, count = rows[~hit], start[~hit], count[~hit]
            slot += 1

    def codes_of(self, county_id: NDArray[np.int32]) -> NDArray[np.object_]:
        """County codes for county ids (None for NONE)."""
        lut = np.append(self.codes.astype(object), None)
        return lut[np.where(county_id >= 0, county_id, len(self.codes))]


def build_county_index(geometries: dict[str, shapely.Geometry], cell: float = DEFAULT_CELL_DEG) -> CountyIndex:
    """Build the grid index over `geometries` (county code -> polygon, WGS-84)."""
    codes = np.array(sorted(geometries))
    geoms = [geometries[c] for c in codes]
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    x0 = np.floor(minx / cell) * cell
    y0 = np.floor(miny / cell) * cell
    nx = int(np.ceil((maxx - x0) / cell)) + 1
    ny = int(np.ceil((maxy - y0) / cell)) + 1
    grid = np.full((ny, nx), NONE, dtype=np.int32)
    edge_cells: list[NDArray] = []
    edge_county: list[NDArray] = []
    edge_pieces: list[NDArray] = []
    for k, geom in enumerate(geoms):
        shapely.prepare(geom)
        bx0, by0, bx1, by1 = geom.bounds
        i0, i1 = int((bx0 - x0) // cell), int((bx1 - x0) // cell)
        j0, j1 = int((by0 - y0) // cell), int((by1 - y0) // cell)
        jj, ii = np.mgrid[j0 : j1 + 1, i0 : i1 + 1]
        ii, jj = ii.ravel(), jj.ravel()
        boxes = shapely.box(x0 + ii * cell, y0 + jj * cell, x0 + (ii + 1) * cell, y0 + (jj + 1) * cell)
        touches = shapely.intersects(geom, boxes)
        inside = shapely.contains(geom, boxes)
        grid[jj[inside], ii[inside]] = k
        edge = touches & ~inside
        pieces = shapely.intersection(geom, boxes[edge])
        # Keep only areal pieces: a county that merely touches a cell along a line owns none of it.
        areal = shapely.area(pieces) > 0
        edge_cells.append((jj[edge] * nx + ii[edge])[areal])
        edge_county.append(np.full(int(areal.sum()), k, dtype=np.int32))
        edge_pieces.append(pieces[areal])
        shapely.destroy_prepared(geom)
    cells = np.concatenate(edge_cells)
    county = np.concatenate(edge_county)
    pieces = np.concatenate(edge_pieces)
    # A cell wholly inside one county is settled even if a neighbour's piece touches it.
    keep = grid.ravel()[cells] == NONE
    cells, county, pieces = cells[keep], county[keep], pieces[keep]
    order = np.argsort(cells, kind="stable")
    cells, county, pieces = cells[order], county[order], pieces[order]
    unique, first = np.unique(cells, return_index=True)
    grid.ravel()[unique] = -2 - np.arange(len(unique), dtype=np.int32)
    piece_start = np.append(first, len(cells)).astype(np.int64)
    shapely.prepare(pieces)
    return CountyIndex(codes, float(x0), float(y0), cell, grid, piece_start, county, pieces)


CACHE_VERSION = 2


class LazyPieces:
    """Border pieces kept as WKB and parsed only when a point falls in their cell (then kept).

    Loading the all-China index then reads a few arrays (memory-mapped) instead of parsing about a
    million polygons, so a lookup of a hundred points costs what those points touch.
    """

    def __init__(self, blob: NDArray[np.uint8], starts: NDArray[np.int64], ends: NDArray[np.int64]) -> None:
        self.blob, self.starts, self.ends = blob, starts, ends
        self.parsed = np.empty(len(starts), dtype=object)
        self.done = np.zeros(len(starts), dtype=bool)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: NDArray[np.int64]) -> NDArray[np.object_]:
        index = np.asarray(index)
        need = np.unique(index[~self.done[index]])
        if need.size:
            raw = [bytes(self.blob[a:b]) for a, b in zip(self.starts[need], self.ends[need], strict=True)]
            geoms = shapely.from_wkb(raw)
            shapely.prepare(geoms)
            self.parsed[need] = geoms
            self.done[need] = True
        return self.parsed[index]


def _cache_path(prefix: str | None, cell: float) -> Path:
    """Where the index for (prefix, cell) is cached: keyed by the boundary data's version (its hash)."""
    return cache_root() / f"county-index-v{CACHE_VERSION}-{prefix or 'all'}-{cell:g}-{boundary_version()}"


ARRAYS = ("codes", "origin", "grid", "piece_start", "piece_county", "wkb", "wkb_ends")


def save_index(index: CountyIndex, path: Path) -> None:
    """Write an index to directory `path`, one .npy file per array (pieces as WKB), so it loads mapped."""
    wkb = shapely.to_wkb(np.asarray(index.pieces[np.arange(len(index.pieces))]) if isinstance(
        index.pieces, LazyPieces) else index.pieces)
    ends = np.cumsum(np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb)))
    arrays = {
        "codes": index.codes.astype("U6"), "origin": np.array([index.x0, index.y0, index.cell]), "grid": index.grid,
        "piece_start": index.piece_start, "piece_county": index.piece_county,
        "wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8), "wkb_ends": ends,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", array)
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)  # readers never see a half-written index


def load_index(path: Path) -> CountyIndex:
    """Read an index written by `save_index` (arrays memory-mapped, pieces parsed when first hit)."""
    data = {name: np.load(path / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
    ends = np.asarray(data["wkb_ends"])
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    x0, y0, cell = (float(v) for v in data["origin"])
    return CountyIndex(np.asarray(data["codes"]), x0, y0, cell, data["grid"], np.asarray(data["piece_start"]),
                       np.asarray(data["piece_county"]), LazyPieces(data["wkb"], starts, ends))


@lru_cache(maxsize=4)
def county_index(prefix: str | None = None, cell: float = DEFAULT_CELL_DEG) -> CountyIndex:
    """The grid index of the counties whose code starts with `prefix` (all China if None).

    Cached in the process and on disk (SMECLUSTER_CACHE_DIR, else ~/.cache/smecluster), keyed by the
    boundary data's hash: building all of China takes a minute or more, loading it well under a second
    (arrays memory-mapped, border pieces parsed only where points fall). A cache that cannot be read or
    written is rebuilt or skipped, never an error.
    """
    path = _cache_path(prefix, cell)
    if path.is_dir():
        try:
            return load_index(path)
        except (OSError, ValueError, KeyError, shapely.errors.ShapelyError):
            pass
    index = build_county_index(county_geometries(prefix), cell)
    with contextlib.suppress(OSError):
        save_index(index, path)
    return index


def assign_counties(
    lon: ArrayLike, lat: ArrayLike, prefix: str | None = None, cell: float = DEFAULT_CELL_DEG
) -> NDArray[np.object_]:
    """County code containing each WGS-84 point (None outside every county under `prefix`)."""
    index = county_index(prefix, cell)
    return index.codes_of(index.lookup(lon, lat))
