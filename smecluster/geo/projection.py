"""Local metric coordinates: a Lambert azimuthal equal-area projection centred on the data.

Distances (DBSCAN radii, buffers, tolerances) and shapes are computed in metres in this projection
and turned back into WGS-84 lon/lat for storage. Within a few hundred kilometres of the centre (one
province) areas are exact and distances are off by well under 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer


@lru_cache(maxsize=1024)
def _transformers(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    # PROJ pipelines skip the CRS database look-up of from_crs (about 10 ms each, 0.06 ms here),
    # which matters when every cluster gets a projection centred on itself.
    laea = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=WGS84"
    forward = Transformer.from_pipeline(
        f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {laea}"
    )
    inverse = Transformer.from_pipeline(
        f"+proj=pipeline +step +inv {laea} +step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )
    return forward, inverse


@dataclass(frozen=True)
class LocalProjection:
    """An equal-area projection in metres centred at (lon0, lat0)."""

    lon0: float
    lat0: float

    @classmethod
    def around(cls, lon: ArrayLike, lat: ArrayLike) -> LocalProjection:
        """A projection centred on the middle of the points' extent (rounded, so it can be cached)."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            raise ValueError("no finite coordinates to centre a projection on")
        cx = round(float((x[ok].min() + x[ok].max()) / 2), 2)
        cy = round(float((y[ok].min() + y[ok].max()) / 2), 2)
        return cls(cx, cy)

    def forward(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
        """WGS-84 lon/lat -> metres."""
        return _transformers(self.lon0, self.lat0)[0].transform(np.asarray(lon), np.asarray(lat))

    def inverse(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Metres -> WGS-84 lon/lat."""
        return _transformers(self.lon0, self.lat0)[1].transform(np.asarray(x), np.asarray(y))

    def to_metric(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """A lon/lat geometry in metres."""
        return shapely.transform(geometry, lambda c: np.column_stack(self.forward(c[:, 0], c[:, 1])))

    def to_lonlat(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """A metric geometry back in lon/lat."""
        return shapely.transform(geometry, lambda c: np.column_stack(self.inverse(c[:, 0], c[:, 1])))
