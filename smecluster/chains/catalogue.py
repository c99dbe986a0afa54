"""The chain catalogue: shipped maps and systems, replaced or extended by those a province imported.

Cross-document checks (a system naming a map that does not exist, a class not in the industry table)
run here, where every document is known; `import_document` checks before it stores, all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, inspect, select

from smecluster.chains.maps import ChainError, ChainMap, ChainSystem, Document, load_file, load_text, shipped_files


@dataclass
class Catalogue:
    """Every chain map and chain system in use, and where each came from (shipped | imported)."""

    maps: dict[str, ChainMap] = field(default_factory=dict)
    systems: dict[str, ChainSystem] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)

    def add(self, doc: Document, origin: str) -> None:
        """Add a document, replacing one of the same id and kind."""
        (self.maps if isinstance(doc, ChainMap) else self.systems)[doc.id] = doc
        self.origin[doc.id] = origin

    def chain(self, chain_id: str) -> ChainMap:
        """One map by id; ChainError lists the known ones."""
        try:
            return self.maps[chain_id]
        except KeyError:
            raise ChainError(f"unknown chain {chain_id!r}; known: {', '.join(sorted(self.maps))}") from None

    def check(self) -> None:
        """Every system's chain that names a map names one that exists."""
        for system in self.systems.values():
            for chain in system.chains:
                if chain.map is not None and chain.map not in self.maps:
                    raise ChainError(f"system {system.id}: chain {chain.id} names unknown map {chain.map!r}")

    def system_classes(self) -> pl.DataFrame:
        """(system_id, chain_id, code, complete): the industry codes each system chain covers (its own
        classes and those of its map), and whether the system lists all its chains."""
        rows = []
        for system in self.systems.values():
            for chain in system.chains:
                codes = set(chain.classes) | (self.maps[chain.map].classes() if chain.map in self.maps else set())
                rows += [(system.id, chain.id, code, system.complete) for code in sorted(codes)]
        return pl.DataFrame(rows, schema={"system_id": pl.Utf8, "chain_id": pl.Utf8, "code": pl.Utf8,
                                          "complete": pl.Boolean}, orient="row")

    def systems_frame(self) -> pl.DataFrame:
        """(system_id, complete): every system, also one with no chain listed yet."""
        return pl.DataFrame({"system_id": list(self.systems),
                             "complete": [s.complete for s in self.systems.values()]},
                            schema={"system_id": pl.Utf8, "complete": pl.Boolean})


@lru_cache(maxsize=1)
def _shipped() -> tuple[Document, ...]:
    return tuple(load_file(p) for p in shipped_files())


def _has_table(engine: Engine) -> bool:
    return "chain_document" in inspect(engine).get_table_names()


def catalogue_from_rows(rows) -> Catalogue:
    """The catalogue from the shipped documents and (id, body) rows of `chain_document`."""
    cat = Catalogue()
    for doc in _shipped():
        cat.add(doc, "shipped")
    for doc_id, body in rows:
        cat.add(load_text(body, f"chain_document {doc_id}"), "imported")
    cat.check()
    return cat


def catalogue_keys(fetch, what: str) -> list[str]:
    """Keys an import may refer to (registry.references): chain ids (`chain`) or "chain/link" (`link`)."""
    cat = catalogue_from_rows(fetch("SELECT id, body FROM chain_document"))
    if what == "chain":
        return sorted(cat.maps)
    return sorted(f"{c.id}/{link.id}" for c in cat.maps.values() for link in c.links)


def load_catalogue(engine: Engine | None = None) -> Catalogue:
    """Shipped documents, then the database's imported ones (which win on the same id)."""
    from smecluster.chains.models import ChainDocument

    rows = []
    if engine is not None and _has_table(engine):
        with engine.connect() as conn:
            rows = conn.execute(select(ChainDocument.id, ChainDocument.body)).all()
    return catalogue_from_rows(rows)


def unknown_classes(doc: Document, known: set[str]) -> list[str]:
    """Industry codes a document names that `known` (the industry table's codes) lacks."""
    codes = doc.classes() if isinstance(doc, ChainMap) else {c for chain in doc.chains for c in chain.classes}
    return sorted(codes - known)


def import_document(engine: Engine, path: Path, now: datetime, actor: str = "cli") -> Document:
    """Check a chain file (schema, classes in the industry table, maps a system names) and store it with
    an audit entry (`chain.import`) in one transaction; ChainError names the file and the reason, and
    nothing is stored."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from smecluster.chains.models import ChainDocument
    from smecluster.workflow import audit

    doc = load_file(path)
    body = path.read_text(encoding="utf-8")
    cat = load_catalogue(engine)
    replaced = cat.origin.get(doc.id)
    cat.add(doc, "imported")
    try:
        cat.check()
    except ChainError as exc:
        raise ChainError(f"{path}: {exc}") from None
    with Session(engine) as session, session.begin():
        known = {r[0] for r in session.execute(text("SELECT code FROM industry"))}
        missing = unknown_classes(doc, known)
        if missing:
            raise ChainError(f"{path}: industry codes not in the industry table: {', '.join(missing)} "
                             "(load the full table with: smecluster import industries FILE)")
        session.execute(ChainDocument.__table__.delete().where(ChainDocument.id == doc.id))
        session.execute(ChainDocument.__table__.insert().values(
            id=doc.id, kind=doc.kind, title=doc.title, version=doc.version, body=body, imported_at=now))
        audit.record(session, actor, "chain.import", f"chain:{doc.id}",
                     {"kind": doc.kind, "version": doc.version, "file": path.name, "replaced": replaced})
    return doc
