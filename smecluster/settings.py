"""The province an installation serves (province.yaml), overridable with SMECLUSTER_PROVINCE_FILE."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_FILE = Path(__file__).with_name("province.yaml")


@dataclass(frozen=True)
class Province:
    """A province's identity and default policy packs."""

    code: str
    name: str
    name_en: str
    cluster_policy: str
    size_policy: str


@lru_cache(maxsize=1)
def province() -> Province:
    """The configured province."""
    path = Path(os.environ.get("SMECLUSTER_PROVINCE_FILE", DEFAULT_FILE))
    return Province(**yaml.safe_load(path.read_text(encoding="utf-8")))
