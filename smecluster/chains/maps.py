"""Chain maps (产业链图谱) as dated data: segments, links, their industry classes and product keywords,
and the supplies-to edges between links; and chain systems (the province's "1650" list).

A map is checked when it loads, like a policy pack: unknown segment, duplicate link, an edge to an
unknown link, a class that is not a GB/T 4754 code, an empty link; the error names the file and the
place. Shipped maps live in `smecluster/chains/data/`; a province imports its own with
`smecluster chain import FILE.yaml` (stored in the database, decision 1400).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smecluster import yamlio

DATA_DIR = Path(__file__).with_name("data")
CODE_PATTERN = r"^\d{2,4}$"
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class ChainError(ValueError):
    """A chain map or system that cannot be used, with the file and the reason."""


class Source(BaseModel):
    """A text a map or a system draws on."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    date: dt.date | None = None
    url: str | None = None
    note: str | None = None


class Segment(BaseModel):
    """A stage of the chain: upstream, midstream, downstream (or finer)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    name: str
    name_en: str


class Link(BaseModel):
    """A link (环节) of a chain: what firms make there, by industry class and by product keyword."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    name: str
    name_en: str
    segment: str
    description: str = ""
    classes: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    key: bool = False  # a key link (关键环节)

    @model_validator(mode="after")
    def _shape(self) -> Link:
        import re

        for code in self.classes:
            if not re.match(CODE_PATTERN, code):
                raise ValueError(f"link {self.id}: {code!r} is not a GB/T 4754 code (2 to 4 digits)")
        if not self.classes and not self.keywords:
            raise ValueError(f"link {self.id}: give classes or keywords (else no firm can match it)")
        if any(not k.strip() or len(k.strip()) < 2 for k in self.keywords):
            raise ValueError(f"link {self.id}: keywords need at least 2 characters")
        return self


class WeakRule(BaseModel):
    """When a link counts as weak (pack parameters, not code)."""

    model_config = ConfigDict(extra="forbid")
    min_firms: int = Field(3, ge=1)  # fewer firms than this: weak (few suppliers)
    max_top_share: float = Field(0.6, gt=0, le=1)  # the largest firm's share of output above this: weak


class ChainMap(BaseModel):
    """One chain: dated, with sources, segments, links and supplies-to edges."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["chain_map"]
    title: str
    title_en: str
    version: str
    effective_from: dt.date
    status: Literal["draft", "official"] = "draft"
    issuer: str
    sources: list[Source] = Field(min_length=1)
    note: str | None = None
    weak: WeakRule = Field(default_factory=WeakRule)
    segments: list[Segment] = Field(min_length=1)
    links: list[Link] = Field(min_length=1)
    edges: list[tuple[str, str]] = Field(default_factory=list)  # (supplier link, customer link)

    @model_validator(mode="after")
    def _graph(self) -> ChainMap:
        segments = [s.id for s in self.segments]
        if len(set(segments)) != len(segments):
            raise ValueError("duplicate segment id")
        ids: set[str] = set()
        for link in self.links:
            if link.id in ids:
                raise ValueError(f"duplicate link id {link.id!r}")
            ids.add(link.id)
            if link.segment not in segments:
                raise ValueError(f"link {link.id}: unknown segment {link.segment!r} (known: {', '.join(segments)})")
        for i, (a, b) in enumerate(self.edges):
            for end in (a, b):
                if end not in ids:
                    raise ValueError(f"edges[{i}]: unknown link {end!r}")
            if a == b:
                raise ValueError(f"edges[{i}]: a link cannot supply itself")
        return self

    def link(self, link_id: str) -> Link:
        """One link by id (KeyError names it)."""
        for link in self.links:
            if link.id == link_id:
                return link
        raise KeyError(f"chain {self.id} has no link {link_id!r}")

    def classes(self) -> set[str]:
        """Every industry code any link names."""
        return {c for link in self.links for c in link.classes}


class SystemChain(BaseModel):
    """A chain of a chain system: its name, whether it is an excellence chain, and what it covers."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    name: str
    name_en: str
    excellence: bool = False  # 卓越产业链
    map: str | None = None  # the chain map that details it, if any
    classes: list[str] = Field(default_factory=list)  # industry codes the chain covers (beside the map's)
    note: str | None = None


class SystemCluster(BaseModel):
    """A cluster (产业集群) of a chain system."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    name: str
    name_en: str
    earlier: bool = False  # of the earlier list (13 clusters), not confirmed in the current 16
    chains: list[str] = Field(default_factory=list)


class ChainSystem(BaseModel):
    """A province's system of clusters and key chains ("1650": 16 clusters, 50 chains)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["chain_system"]
    title: str
    title_en: str
    version: str
    effective_from: dt.date
    issuer: str
    sources: list[Source] = Field(min_length=1)
    note: str | None = None
    clusters_expected: int = Field(ge=1)
    chains_expected: int = Field(ge=1)
    clusters: list[SystemCluster] = Field(default_factory=list)
    chains: list[SystemChain] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids(self) -> ChainSystem:
        import re

        chains = [c.id for c in self.chains]
        if len(set(chains)) != len(chains):
            raise ValueError("duplicate chain id")
        for cluster in self.clusters:
            for c in cluster.chains:
                if c not in chains:
                    raise ValueError(f"cluster {cluster.id}: unknown chain {c!r}")
        for chain in self.chains:
            for code in chain.classes:
                if not re.match(CODE_PATTERN, code):
                    raise ValueError(f"chain {chain.id}: {code!r} is not a GB/T 4754 code")
            if chain.map is None and not chain.classes:
                raise ValueError(f"chain {chain.id}: give a map or classes")
        if len(self.chains) > self.chains_expected:
            raise ValueError(f"{len(self.chains)} chains listed, more than chains_expected {self.chains_expected}")
        return self

    @property
    def complete(self) -> bool:
        """Whether every chain of the system is listed (else a cluster not found on it is unknown)."""
        return len(self.chains) >= self.chains_expected


Document = ChainMap | ChainSystem


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        (f"{'.'.join(str(p) for p in e['loc'])}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
        for e in exc.errors()
    )


def parse_document(raw: object, where: str) -> Document:
    """A map or a system from its mapping; ChainError names `where` and every problem."""
    if not isinstance(raw, dict):
        raise ChainError(f"{where}: a chain file is a mapping with id, kind, ...")
    kind = raw.get("kind")
    model = {"chain_map": ChainMap, "chain_system": ChainSystem}.get(kind)
    if model is None:
        raise ChainError(f"{where}: kind must be chain_map or chain_system, not {kind!r}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ChainError(f"{where}: {_problems(exc)}") from None


def load_text(text: str, where: str) -> Document:
    """A map or a system from YAML text."""
    try:
        raw = yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChainError(f"{where}: not valid YAML: {exc}") from None
    return parse_document(raw, where)


def load_file(path: Path | str) -> Document:
    """A map or a system from a file; ChainError names the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChainError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ChainError(f"{path}: not UTF-8 text") from None
    return load_text(text, str(path))


def shipped_files() -> list[Path]:
    """Every map and system shipped with the product."""
    return sorted(DATA_DIR.glob("*.yaml"))
