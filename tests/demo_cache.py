"""The demo generator's output made once per test worker for each (seed, scale, year) (decision 2302).

`generate` is deterministic for its arguments, and its frames are Polars frames, which nothing changes in
place: tests that only need a small demo registry written share one generation (2 s each, dozens of times a
run). Each caller gets its own copy of `specs`, the one mutable part. Large scales are generated anew (their
frames are not worth keeping in memory), and tests about the generator itself import it directly.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from functools import lru_cache

from smecluster.demo import generator

_REAL = generator.generate
_SIGNATURE = inspect.signature(_REAL)
KEEP_UP_TO_FIRMS = 20_000


@lru_cache(maxsize=8)
def _kept(seed: int, scale: float, year: int) -> generator.DemoData:
    return _REAL(seed=seed, scale=scale, year=year)


def generate(*args, **kwargs) -> generator.DemoData:
    """As smecluster.demo.generator.generate, from the worker's cache for small scales."""
    bound = _SIGNATURE.bind(*args, **kwargs)
    bound.apply_defaults()
    seed, scale, year = bound.arguments["seed"], bound.arguments["scale"], bound.arguments["year"]
    if scale * generator.BASE_FIRMS > KEEP_UP_TO_FIRMS:
        return _REAL(seed=seed, scale=scale, year=year)
    data = _kept(seed, scale, year)
    return dataclasses.replace(data, specs=copy.deepcopy(data.specs))
