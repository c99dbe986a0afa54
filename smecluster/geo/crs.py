"""Chinese web-map coordinate systems: GCJ-02 (Amap, Tencent) and BD-09 (Baidu) to and from WGS-84.

Vectorised over numpy arrays. The formulas are the published GCJ-02 obfuscation (Krasovsky 1940
ellipsoid) and Baidu's BD-09 rotation on top of it, the same as fast-geocn's scalar `coord` module;
GCJ-02 -> WGS-84 has no closed form and is solved by fixed-point iteration to well under 1 mm.
Points outside mainland China's rough box are left unchanged, as the map services do.

Every geometry the product stores is WGS-84 lon/lat (see docs/decisions/0400-coordinate-system.md).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Crs = Literal["wgs84", "gcj02", "bd09"]
CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"longitude and latitude differ in shape: {x.shape} vs {y.shape}")
    return x, y


def in_china_box(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies in the rough box where GCJ-02 applies (72-137.8 E, 0.8-55.8 N)."""
    x, y = _arrays(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _gcj_delta(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """GCJ-02 minus WGS-84 in degrees at WGS-84 point (x, y)."""
    dx, dy = x - 105.0, y - 35.0
    pi = np.pi
    dlat = -100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy + 0.2 * np.sqrt(np.abs(dx))
    dlat += (20.0 * np.sin(6.0 * dx * pi) + 20.0 * np.sin(2.0 * dx * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(dy * pi) + 40.0 * np.sin(dy / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(dy / 12.0 * pi) + 320.0 * np.sin(dy * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * np.sqrt(np.abs(dx))
    dlon += (20.0 * np.sin(6.0 * dx * pi) + 20.0 * np.sin(2.0 * dx * pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(dx * pi) + 40.0 * np.sin(dx / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(dx / 12.0 * pi) + 300.0 * np.sin(dx / 30.0 * pi)) * 2.0 / 3.0
    radlat = y / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    inside = in_china_box(x, y)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """WGS-84 -> GCJ-02."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _gcj_delta(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, iterations: int = 6) -> tuple[NDArray, NDArray]:
    """GCJ-02 -> WGS-84 by fixed-point iteration (error below 1e-9 degree after 6 rounds)."""
    gx, gy = _arrays(lon, lat)
    x, y = gx.copy(), gy.copy()
    for _ in range(iterations):
        cx, cy = wgs84_to_gcj02(x, y)
        x += gx - cx
        y += gy - cy
    return x, y


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """GCJ-02 -> BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """BD-09 -> GCJ-02 (Baidu's published inverse, good to about 1 m; refined by one correction)."""
    bx, by = _arrays(lon, lat)

    def _approx(u: NDArray, v: NDArray) -> tuple[NDArray, NDArray]:
        x, y = u - 0.0065, v - 0.006
        z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
        return z * np.cos(theta), z * np.sin(theta)

    x, y = _approx(bx, by)
    # One Newton-like step: push the forward image of the estimate onto the given BD-09 point.
    fx, fy = gcj02_to_bd09(x, y)
    return x + (bx - fx), y + (by - fy)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[NDArray, NDArray]:
    """Convert coordinates in `crs` ('wgs84', 'gcj02' or 'bd09') to WGS-84."""
    crs = crs.lower().replace("-", "").replace("_", "")
    if crs == "wgs84":
        return _arrays(lon, lat)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}: use one of {', '.join(CRS_NAMES)}")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[NDArray, NDArray]:
    """Convert WGS-84 coordinates to `crs` ('wgs84', 'gcj02' or 'bd09')."""
    crs = crs.lower().replace("-", "").replace("_", "")
    if crs == "wgs84":
        return _arrays(lon, lat)
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}: use one of {', '.join(CRS_NAMES)}")


def rows_to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: ArrayLike) -> tuple[NDArray, NDArray]:
    """Convert each row from the system named in `crs` (one name per row) to WGS-84.

    Names are matched case-insensitively with '-' and '_' ignored ('GCJ-02', 'bd09', 'WGS84');
    an unknown name raises ValueError naming the first row that has it.
    """
    x, y = _arrays(lon, lat)
    names = np.char.replace(np.char.replace(np.char.lower(np.asarray(crs, dtype=str)), "-", ""), "_", "")
    bad = ~np.isin(names, CRS_NAMES)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {row + 1}: unknown coordinate system {np.asarray(crs)[row]!r}")
    out_x, out_y = x.copy(), y.copy()
    for name in ("gcj02", "bd09"):
        rows = names == name
        if rows.any():
            out_x[rows], out_y[rows] = to_wgs84(x[rows], y[rows], name)
    return out_x, out_y
