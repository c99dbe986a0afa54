"""Policy packs: YAML files of dated criteria, loaded and checked before anything uses them.

A pack is checked when it loads (unknown indicator, bad threshold type, duplicate id, a boundary
word that contradicts its comparator), so a typo fails at once with the file and criterion named.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smecluster import yamlio
from smecluster.analytics.catalogue import catalogue
from smecluster.policy.extend import ExtendError, extend

PACK_DIR = Path(__file__).with_name("packs")
BOUNDARY_WORDS_FILE = Path(__file__).with_name("boundary_words.yaml")
Comparator = Literal[">=", ">", "<=", "<", "=="]
Evaluation = Literal["new", "review"]
EVALUATIONS: tuple[str, ...] = ("new", "review")


class PackError(ValueError):
    """A policy pack that cannot be used, with the file and the reason."""


@lru_cache(maxsize=1)
def boundary_words() -> dict[str, str]:
    """Boundary word -> the comparator it implies."""
    raw = yamlio.safe_load(BOUNDARY_WORDS_FILE.read_text(encoding="utf-8"))
    return {word: comp for comp, words in raw.items() for word in words}


class Source(BaseModel):
    """A text a criterion comes from."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    date: dt.date | None = None
    note: str | None = None


class Band(BaseModel):
    """A score band: points when min <= value < max (either bound may be open)."""

    model_config = ConfigDict(extra="forbid")
    points: float
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = False
    equals: Any = None
    label: str | None = None


class Criterion(BaseModel):
    """One condition of a pack: a leaf test on an indicator, or a composition of criteria."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    clause: str = ""
    source: str | None = None
    verified: bool = True
    soft: bool = False
    role: Literal["condition", "priority", "direct_route", "score", "baseline"] = "condition"
    # a leaf
    indicator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    comparator: Comparator | None = None
    threshold: float | int | bool | str | None = None
    boundary_word: str | None = None
    decimals: int | None = None
    # a composition
    any: list[Criterion] | None = None
    all: list[Criterion] | None = None
    at_least: int | None = None
    of: list[Criterion] | None = None
    # a scored indicator (tiers)
    bands: list[Band] | None = None
    max_points: float | None = None
    group: str | None = None
    # a scored criterion earning the best of several banded criteria ("500万元以上或10%以上")
    best_of: list[Criterion] | None = None
    # the kinds of evaluation the criterion is checked in (None: both new applications and re-reviews)
    evaluations: list[Evaluation] | None = None
    # bands whose printed ranges share an endpoint ("55%-75%" and "75%以上"): which band takes it
    endpoint: Literal["better", "worse"] | None = None
    endpoint_note: str | None = None
    # not (yet) assessable
    assessed: bool = True
    judgement: bool = False
    note: str | None = None
    gap_en: str | None = None
    gap_zh: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Criterion:
        shapes = [
            self.indicator is not None and self.bands is None,
            self.any is not None,
            self.all is not None,
            self.at_least is not None,
            self.bands is not None,
            self.best_of is not None,
        ]
        if not self.assessed or self.judgement:
            if any(shapes):
                raise ValueError(f"{self.id}: a criterion not assessed by rule has no test")
            return self
        if sum(shapes) != 1:
            raise ValueError(
                f"{self.id}: give exactly one of indicator+comparator+threshold, any, all, "
                "at_least+of, indicator+bands, or best_of"
            )
        if self.indicator is not None and self.bands is None:
            if self.comparator is None or self.threshold is None:
                raise ValueError(f"{self.id}: a leaf needs comparator and threshold")
            if isinstance(self.threshold, str):
                raise ValueError(f"{self.id}: threshold must be a number or true/false")
        if self.bands is not None and self.indicator is None:
            raise ValueError(f"{self.id}: bands need an indicator")
        if self.at_least is not None and not self.of:
            raise ValueError(f"{self.id}: at_least needs of")
        if self.best_of is not None and any(ch.bands is None for ch in self.best_of):
            raise ValueError(f"{self.id}: every criterion of best_of needs bands")
        if self.bands is not None:
            _check_endpoints(self)
        return self

    def for_evaluation(self, kind: str) -> Criterion | None:
        """This criterion as checked in one kind of evaluation (None when not checked in it)."""
        if self.evaluations is not None and kind not in self.evaluations:
            return None
        kids = self.children()
        if not kids:
            return self
        kept = [k for k in (ch.for_evaluation(kind) for ch in kids) if k is not None]
        if len(kept) == len(kids) and all(a is b for a, b in zip(kept, kids, strict=True)):
            return self
        key = "any" if self.any is not None else "all" if self.all is not None else "of" if self.of else "best_of"
        return self.model_copy(update={key: kept})

    def children(self) -> list[Criterion]:
        """The sub-criteria of a composition (empty for a leaf)."""
        return self.any or self.all or self.of or self.best_of or []

    def walk(self):
        """This criterion and every criterion under it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()


def _check_endpoints(c: Criterion) -> None:
    """Where two bands meet at a number, exactly one takes it, and the one `endpoint` names.

    The texts print bands like "55%-75%" next to "75%以上", both naming 75%: the pack must say which
    band takes the shared endpoint (better: the band with more points; worse: fewer), and the bands
    must be written that way (decision 0901).
    """
    bands = [b for b in c.bands or [] if b.equals is None]
    for a in bands:
        for b in bands:
            if a is b or a.max is None or b.min is None or a.max != b.min:
                continue
            if a.max_inclusive == b.min_inclusive:
                raise ValueError(f"{c.id}: bands meeting at {a.max} must give it to exactly one of them")
            if c.endpoint is None:
                raise ValueError(f"{c.id}: bands share the endpoint {a.max}: say which band takes it (endpoint)")
            taker, other = (a, b) if a.max_inclusive else (b, a)
            better = taker.points > other.points
            if taker.points != other.points and better != (c.endpoint == "better"):
                raise ValueError(f"{c.id}: endpoint {a.max} goes to the {'better' if better else 'worse'} "
                                 f"band, but the pack says {c.endpoint}")


class Window(BaseModel):
    """When a pack serves one kind of evaluation, where that differs from its own effective period."""

    model_config = ConfigDict(extra="forbid")
    effective_from: date | None = None
    effective_to: date | None = None
    source: str | None = None
    note: str | None = None


class Selection(BaseModel):
    """Why a pack was applied: the kind of evaluation, the date and the window that covers it."""

    model_config = ConfigDict(extra="forbid")
    evaluation: Evaluation
    on: date
    effective_from: date
    effective_to: date | None = None
    source: str | None = None
    note: str | None = None

    def reason_en(self) -> str:
        """The reason in English."""
        kind = "new application" if self.evaluation == "new" else "re-review"
        until = f"to {self.effective_to.isoformat()}" if self.effective_to else "on"
        why = f"{kind} on {self.on.isoformat()}: the pack serves {kind}s from {self.effective_from.isoformat()} {until}"
        return why + (f" ({self.note})" if self.note else "")

    def reason_zh(self) -> str:
        """The reason in Chinese."""
        kind = "新申报" if self.evaluation == "new" else "复核"
        until = f"至 {self.effective_to.isoformat()}" if self.effective_to else "起"
        why = f"{kind}，评价日 {self.on.isoformat()}：本标准适用于 {self.effective_from.isoformat()} {until}的{kind}"
        return why + (f"（{self.note}）" if self.note else "")


class PassRule(BaseModel):
    """How a pack's verdict is reached beyond 'every condition passes' (tiers).

    The subject qualifies when every condition/baseline criterion passes and, if the pack has a
    score or direct routes, either the score test passes or any direct route passes.
    """

    model_config = ConfigDict(extra="forbid")
    score_at_least: float | None = None
    group_minimums: dict[str, float] = Field(default_factory=dict)
    boundary_word: str | None = None


class Target(BaseModel):
    """A numeric target of a plan (kind: targets): what is counted, how much, by when, where."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    clause: str = ""
    source: str | None = None
    verified: bool = True
    measure: str  # designated:<tier kind> (firms holding it) or clusters:recognised
    comparator: Comparator = ">="
    boundary_word: str | None = None
    value: float
    period_from: date | None = None  # counting starts (cumulative measures)
    deadline: date
    scope: str  # region code (province 32) the count covers
    note: str | None = None


class Pack(BaseModel):
    """A dated, versioned policy pack."""

    model_config = ConfigDict(extra="forbid")
    id: str
    kind: Literal["cluster_recognition", "enterprise_tier", "size_class", "workflow", "targets"]
    title: str
    issuer: str
    version: str
    effective_from: date
    effective_to: date | None = None
    superseded_by: str | None = None
    subject: Literal["cluster", "enterprise"] = "cluster"
    sources: list[Source] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    criteria: list[Criterion] = Field(default_factory=list)
    tables: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None
    # enterprise tiers: which tier the pack recognises, its pass rule, and the pack it derives from
    tier: str | None = None
    pass_rule: PassRule | None = None
    extends: str | None = None
    targets: list[Target] = Field(default_factory=list)
    # the tier's name under this pack (the first tier is renamed in 2026), else tiers.yaml's
    tier_label_zh: str | None = None
    tier_label_en: str | None = None
    # per kind of evaluation: absent = the pack's own period; null = not served; a Window = its dates
    evaluations: dict[Evaluation, Window | None] = Field(default_factory=dict)
    # set on the copy a selection returns (tier_pack): why this pack applies
    selection: Selection | None = None

    def window(self, kind: str) -> Window | None:
        """The dates this pack serves one kind of evaluation in (None: it does not serve it)."""
        if kind not in self.evaluations:
            return Window(effective_from=self.effective_from, effective_to=self.effective_to)
        w = self.evaluations[kind]
        if w is None:
            return None
        given = w.model_fields_set
        return Window(
            effective_from=w.effective_from if "effective_from" in given else self.effective_from,
            effective_to=w.effective_to if "effective_to" in given else self.effective_to,
            source=w.source, note=w.note,
        )

    def serves(self, kind: str, on: date) -> bool:
        """Whether the pack applies to an evaluation of `kind` on date `on`."""
        w = self.window(kind)
        return w is not None and w.effective_from <= on and (w.effective_to is None or on <= w.effective_to)

    def for_evaluation(self, kind: str, on: date) -> Pack:
        """A copy of the pack as applied to one kind of evaluation on a date: criteria not checked in
        that kind removed, and `selection` saying why the pack applies."""
        w = self.window(kind)
        if w is None:
            raise PackError(f"{self.id} does not serve {kind} evaluations")
        kept = [k for k in (c.for_evaluation(kind) for c in self.criteria) if k is not None]
        why = Selection(evaluation=kind, on=on, effective_from=w.effective_from, effective_to=w.effective_to,
                        source=w.source, note=w.note)
        return self.model_copy(update={"criteria": kept, "selection": why})

    def all_criteria(self) -> list[Criterion]:
        """Every criterion of the pack, nested ones included."""
        return [c for top in self.criteria for c in top.walk()]

    def criterion(self, criterion_id: str) -> Criterion:
        """One criterion by id."""
        for c in self.all_criteria():
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


def _check(pack: Pack, where: str) -> None:
    ids: set[str] = set()
    sources = {s.id for s in pack.sources}
    known = catalogue()
    words = boundary_words()
    for c in pack.all_criteria():
        if c.id in ids:
            raise PackError(f"{where}: duplicate criterion id {c.id!r}")
        ids.add(c.id)
        if c.source and sources and c.source not in sources:
            raise PackError(f"{where}: criterion {c.id}: unknown source {c.source!r}")
        if c.indicator is not None:
            info = known.get(c.indicator)
            if info is None:
                raise PackError(f"{where}: criterion {c.id}: unknown indicator {c.indicator!r}")
            if info.subject != pack.subject:
                raise PackError(
                    f"{where}: criterion {c.id}: indicator {c.indicator!r} is about "
                    f"{info.subject}, the pack about {pack.subject}"
                )
            unknown_params = set(c.params) - set(info.params)
            if unknown_params:
                raise PackError(f"{where}: criterion {c.id}: unknown params {sorted(unknown_params)}")
            if info.unit == "bool" and c.threshold is not None and not isinstance(c.threshold, bool):
                raise PackError(f"{where}: criterion {c.id}: threshold must be true or false")
            if info.unit != "bool" and isinstance(c.threshold, bool):
                raise PackError(f"{where}: criterion {c.id}: threshold must be a number")
        if c.boundary_word is not None:
            implied = words.get(c.boundary_word)
            if implied is None:
                raise PackError(f"{where}: criterion {c.id}: unknown boundary word {c.boundary_word!r}")
            if c.comparator is not None and implied != c.comparator:
                raise PackError(
                    f"{where}: criterion {c.id}: {c.boundary_word} means {implied}, "
                    f"not {c.comparator}"
                )


def _check_tier(pack: Pack, where: str) -> None:
    scored = [c for c in pack.criteria if c.role == "score"]
    for c in scored:
        if c.max_points is None:
            raise PackError(f"{where}: scored criterion {c.id} needs max_points")
        for band in (b for ch in [c, *(c.best_of or [])] for b in (ch.bands or [])):
            if band.points > c.max_points:
                raise PackError(f"{where}: criterion {c.id}: a band gives more than max_points")
    words = boundary_words()
    for t in pack.targets:
        if t.boundary_word is not None and words.get(t.boundary_word) != t.comparator:
            raise PackError(f"{where}: target {t.id}: {t.boundary_word} does not mean {t.comparator}")
        if t.source and pack.sources and t.source not in {s.id for s in pack.sources}:
            raise PackError(f"{where}: target {t.id}: unknown source {t.source!r}")
    for kind, w in pack.evaluations.items():
        if w is not None and w.source and w.source not in {s.id for s in pack.sources}:
            raise PackError(f"{where}: evaluations.{kind}: unknown source {w.source!r}")
    if pack.pass_rule is not None:
        groups = {c.group for c in scored}
        unknown = set(pack.pass_rule.group_minimums) - groups
        if unknown:
            raise PackError(f"{where}: pass_rule names unknown score groups {sorted(unknown)}")
        if pack.pass_rule.score_at_least is not None and not scored:
            raise PackError(f"{where}: pass_rule has a pass score but no criterion has role score")


# What a parsed pack depends on besides its directory's pack files: the code and data that parse and
# check it. A change to any of them (or to PyDantic) makes the kept parses unused.
_PARSER_FILES = ("policy/*.py", "policy/*.yaml", "analytics/catalogue.py", "analytics/indicators.yaml", "yamlio.py")


@lru_cache(maxsize=8)
def _kept_parses(directory: Path) -> tuple[Path, dict[str, bytes]] | None:
    """(the file, pack file name -> the checked pack pickled) of the parses kept for a directory's packs.

    Keyed by a digest of every pack file of the directory (a pack extends another of the same
    directory) and of the parsing code (_PARSER_FILES): an edited file is parsed anew, never read
    from an older parse. In SMECLUSTER_CACHE_DIR, else ~/.cache/smecluster. None when unreadable.
    """
    import pydantic

    digest = hashlib.sha256(pydantic.VERSION.encode())
    package = Path(__file__).parent.parent
    try:
        for path in [*sorted(p for g in _PARSER_FILES for p in package.glob(g)), *sorted(directory.glob("*.y*ml"))]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None
    root = Path(os.environ.get("SMECLUSTER_CACHE_DIR") or Path.home() / ".cache" / "smecluster") / "packs"
    file = root / f"{digest.hexdigest()[:32]}.pickle"
    try:
        kept = pickle.loads(file.read_bytes())  # noqa: S301 - written by this code, in the user's own cache
    except Exception:  # noqa: BLE001 - missing or unreadable: parsed again and rewritten
        kept = {}
    return file, kept if isinstance(kept, dict) else {}


def _keep_parse(path: Path, pack: Pack) -> None:
    """Keep a checked pack's parse for the next process (best effort: a cache that cannot be written
    is skipped)."""
    kept = _kept_parses(path.parent.resolve())
    if kept is None:
        return
    file, packs = kept
    packs[path.name] = pickle.dumps(pack)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        part = file.with_name(f".{file.name}.{os.getpid()}")
        part.write_bytes(pickle.dumps(packs))
        os.replace(part, file)
    except OSError:
        pass


def load_pack_file(path: Path | str) -> Pack:
    """Read and check one pack file; PackError names the file and what is wrong.

    A shipped pack checked before (same files, same parsing code) is read from its kept parse: parsing
    the shipped packs' YAML and checking them took ~50 ms of every short command (a diagnosis).
    """
    path = Path(path)
    shipped = path.parent.resolve() == PACK_DIR.resolve()  # the product's packs (not a user's files)
    kept = _kept_parses(path.parent.resolve()) if shipped else None
    if kept is not None and path.name in kept[1]:
        try:
            return pickle.loads(kept[1][path.name])  # noqa: S301 - see _kept_parses
        except Exception:  # noqa: BLE001, S110 - an unreadable parse: parsed again below
            pass
    pack = _read_pack_file(path)
    if shipped:
        _keep_parse(path, pack)
    return pack


def _read_pack_file(path: Path) -> Pack:
    where = str(path)
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{where}: no such pack file") from None
    except UnicodeDecodeError as exc:
        raise PackError(f"{where}: not UTF-8 text (byte {exc.start}); save the pack as UTF-8") from None
    except yaml.YAMLError as exc:
        raise PackError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise PackError(f"{where}: a pack is a mapping with id, kind, criteria, ...")
    if raw.get("extends"):
        try:
            raw = extend(raw, path.parent)
        except ExtendError as exc:
            raise PackError(f"{where}: {exc}") from None
    return pack_from_dict(raw, where)


def pack_from_dict(raw: dict, where: str) -> Pack:
    """A pack from its mapping, checked exactly as a pack file is (PackError names `where`).

    Reforms (policy.reform) use it to check a pack changed in memory with the same rules."""
    try:
        pack = Pack.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PackError(f"{where}: {problems}") from None
    _check(pack, where)
    _check_tier(pack, where)
    return pack


def pack_files(directory: Path = PACK_DIR) -> list[Path]:
    """Every pack file shipped with the product (or in `directory`)."""
    return sorted(directory.glob("*.yaml"))


@lru_cache(maxsize=32)
def load_pack(pack_id: str) -> Pack:
    """A shipped pack by id, or a pack file by path."""
    candidate = Path(pack_id)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_pack_file(candidate)
    path = PACK_DIR / f"{pack_id}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in pack_files())
        raise PackError(f"unknown policy pack {pack_id!r}; known: {known}")
    return load_pack_file(path)


def packs_of_kind(kind: str) -> list[Pack]:
    """Every shipped pack of one kind, oldest first."""
    packs = [load_pack(p.stem) for p in pack_files()]
    return sorted((p for p in packs if p.kind == kind), key=lambda p: p.effective_from)


def pack_in_force(kind: str, on: date, subject_filter: str | None = None) -> Pack:
    """The newest pack of `kind` in force on a date."""
    candidates = [
        p
        for p in packs_of_kind(kind)
        if p.effective_from <= on and (p.effective_to is None or on <= p.effective_to)
        and (subject_filter is None or p.id.startswith(subject_filter))
    ]
    if not candidates:
        raise PackError(f"no {kind} pack in force on {on.isoformat()}")
    return candidates[-1]
