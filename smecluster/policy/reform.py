"""Reforms: a base pack and changes to it, applied in memory and checked exactly like a pack.

A reform never touches a pack file or the database: it is a YAML file (or `--set` options) naming a
base pack and its changes, applied to a copy of the loaded pack, and the changed pack is checked with
the pack loader's own rules (boundary words against comparators, indicators, threshold types, score
bands), so a reform that would be a bad pack is refused with the reform and change named.

    id: cloud-25
    title: cloud adoption bar at 25%
    base: jiangsu-cluster-2023
    changes:
      - {criterion: J7, threshold: 0.25}
      - {criterion: J2, comparator: "<", boundary_word: 不满}
      - {criterion: J9, remove: true}
      - {add: {id: J10, title: ..., indicator: ..., comparator: ">=", threshold: 1}, parent: J4}
      - {parameter: validity_years, value: 2}
      - {parameter: pass_rule.score_at_least, value: 55}
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smecluster import yamlio
from smecluster.policy.pack import Band, Comparator, Pack, PackError, load_pack, pack_from_dict

REFORM_DIR = Path(__file__).with_name("reforms")  # example reforms shipped with the product
CHILD_KEYS = ("any", "all", "of", "best_of")
# What a change may set on a criterion (the rest of a criterion is edited by removing and adding it).
CRITERION_FIELDS = ("threshold", "comparator", "boundary_word", "bands", "soft", "params", "at_least")
SET_FIELDS = (*CRITERION_FIELDS, "remove")


class ReformError(ValueError):
    """A reform that cannot be applied, naming the reform, the change and the reason."""


class Change(BaseModel):
    """One change of a reform: edit, remove or add a criterion, or set a parameter of the pack."""

    model_config = ConfigDict(extra="forbid")
    criterion: str | None = None
    threshold: float | int | bool | None = None
    comparator: Comparator | None = None
    boundary_word: str | None = None
    bands: list[Band] | None = None
    soft: bool | None = None
    params: dict[str, Any] | None = None
    at_least: int | None = None
    remove: bool = False
    add: dict[str, Any] | None = None
    parent: str | None = None  # the composition an added criterion joins (default: the pack's top level)
    parameter: str | None = None  # a pack parameter (validity_years) or pass_rule.<field>
    value: Any = None

    @model_validator(mode="after")
    def _one_kind(self) -> Change:
        kinds = [self.criterion is not None, self.add is not None, self.parameter is not None]
        if sum(kinds) != 1:
            raise ValueError("a change names exactly one of criterion, add or parameter")
        edits = [f for f in CRITERION_FIELDS if f in self.model_fields_set]
        if self.criterion is not None and not edits and not self.remove:
            raise ValueError(f"change of {self.criterion}: say what changes ({', '.join(SET_FIELDS)})")
        if self.criterion is not None and self.remove and edits:
            raise ValueError(f"change of {self.criterion}: a removed criterion takes no other change")
        if self.parameter is not None and "value" not in self.model_fields_set:
            raise ValueError(f"parameter {self.parameter}: give its value")
        return self

    def describe(self) -> str:
        """The change in a few words (for tables and the audit)."""
        if self.parameter is not None:
            return f"{self.parameter} = {self.value}"
        if self.add is not None:
            return f"add {self.add.get('id')}" + (f" under {self.parent}" if self.parent else "")
        if self.remove:
            return f"remove {self.criterion}"
        edits = [f"{f}={getattr(self, f)}" for f in CRITERION_FIELDS if f in self.model_fields_set]
        return f"{self.criterion}: {', '.join(edits)}"


class Reform(BaseModel):
    """A named reform of one base pack."""

    model_config = ConfigDict(extra="forbid")
    id: str = "reform"
    title: str = ""
    base: str
    note: str | None = None
    changes: list[Change] = Field(default_factory=list)


def _nodes(criteria: list[dict]):
    """(criterion mapping, the list holding it) for every criterion, nested ones included."""
    for c in criteria:
        yield c, criteria
        for key in CHILD_KEYS:
            if c.get(key):
                yield from _nodes(c[key])


def _find(raw: dict, criterion_id: str, where: str) -> tuple[dict, list[dict]]:
    for node, holder in _nodes(raw.get("criteria") or []):
        if node.get("id") == criterion_id:
            return node, holder
    known = ", ".join(n.get("id", "?") for n, _ in _nodes(raw.get("criteria") or []))
    raise ReformError(f"{where}: unknown criterion {criterion_id!r} in pack {raw.get('id')}; known: {known}")


def _apply(raw: dict, change: Change, where: str) -> None:
    """Apply one change to a pack mapping in place."""
    if change.parameter is not None:
        head, _, field = change.parameter.partition(".")
        if head == "pass_rule" and field:
            if raw.get("pass_rule") is None:
                raise ReformError(f"{where}: pack {raw.get('id')} has no pass_rule")
            raw["pass_rule"][field] = change.value
        elif head == "parameters" and field:
            raw.setdefault("parameters", {})[field] = change.value
        elif not field:
            if head not in (raw.get("parameters") or {}):
                known = ", ".join(raw.get("parameters") or {}) or "none"
                raise ReformError(f"{where}: pack {raw.get('id')} has no parameter {head!r}; known: {known} "
                                  "(write parameters.NAME to add one)")
            raw["parameters"][head] = change.value
        else:
            raise ReformError(f"{where}: parameter {change.parameter!r}: write NAME, parameters.NAME or "
                              "pass_rule.FIELD")
        return
    if change.add is not None:
        if change.parent is None:
            raw.setdefault("criteria", []).append(copy.deepcopy(change.add))
            return
        node, _ = _find(raw, change.parent, where)
        key = next((k for k in CHILD_KEYS if node.get(k) is not None), None)
        if key is None:
            raise ReformError(f"{where}: {change.parent} is not a composition (any, all, of, best_of)")
        node[key].append(copy.deepcopy(change.add))
        return
    node, holder = _find(raw, change.criterion, where)
    if change.remove:
        holder.remove(node)
        return
    for field in CRITERION_FIELDS:
        if field in change.model_fields_set:
            value = getattr(change, field)
            node[field] = [b.model_dump(exclude_unset=True) for b in value] if field == "bands" else value


def apply_reform(reform: Reform, base: Pack | None = None, where: str = "reform") -> Pack:
    """The base pack with the reform's changes, checked like a pack file (the base is not modified).

    The reformed pack keeps the base's id and kind, so it replaces the base wherever the base applies;
    its version says it is a reform."""
    base = base or _load_base(reform.base, where)
    raw = base.model_dump(exclude_unset=True, exclude={"selection"})
    for i, change in enumerate(reform.changes, start=1):
        _apply(raw, change, f"{where}: change {i} ({change.describe()})")
    raw["version"] = f"{base.version}+{reform.id}"
    try:
        return pack_from_dict(raw, f"{where} (pack {base.id} reformed)")
    except PackError as exc:
        raise ReformError(str(exc)) from None


def _load_base(pack_id: str, where: str) -> Pack:
    try:
        return load_pack(pack_id)
    except PackError as exc:
        raise ReformError(f"{where}: base pack: {exc}") from None


def load_reform(path: Path | str) -> Reform:
    """Read a reform file; ReformError names the file and what is wrong."""
    where = str(path)
    try:
        raw = yamlio.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReformError(f"{where}: no such reform file") from None
    except yaml.YAMLError as exc:
        raise ReformError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ReformError(f"{where}: a reform is a mapping with base and changes")
    return _validated(raw, where)


def _validated(raw: dict, where: str) -> Reform:
    try:
        return Reform.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ReformError(f"{where}: {problems}") from None


def parse_set(text: str) -> Change:
    """One `--set` option: ID.FIELD=VALUE (FIELD: threshold, comparator, boundary_word, soft, at_least,
    remove), parameters.NAME=VALUE, NAME=VALUE (an existing parameter) or pass_rule.FIELD=VALUE.

    VALUE is read as YAML (0.25, true, 以上)."""
    target, eq, value_text = text.partition("=")
    if not eq or not target:
        raise ReformError(f"--set {text!r}: write ID.FIELD=VALUE (e.g. J7.threshold=0.25)")
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else None
    except yaml.YAMLError:
        value = value_text
    head, dot, field = target.partition(".")
    try:
        if not dot or head in ("parameters", "pass_rule"):
            return Change(parameter=target, value=value)
        if field not in SET_FIELDS:
            raise ReformError(f"--set {text!r}: {field!r} cannot be set; choose one of {', '.join(SET_FIELDS)}")
        if field in ("comparator", "boundary_word"):  # words, never YAML (">" alone is YAML syntax)
            value = value_text.strip()
        if field == "remove":
            if value is not True:
                raise ReformError(f"--set {text!r}: write {head}.remove=true")
            return Change(criterion=head, remove=True)
        return Change(criterion=head, **{field: value})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ReformError(f"--set {text!r}: {problems}") from None


def reform_from_sets(base: str, sets: list[str], reform_id: str = "set") -> Reform:
    """A reform of `base` from repeated `--set` options."""
    if not sets:
        raise ReformError("give at least one --set ID.FIELD=VALUE")
    return Reform(id=reform_id, title=" ".join(sets), base=base, changes=[parse_set(s) for s in sets])


def reform_from_dict(raw: dict, where: str = "reform") -> Reform:
    """A reform from a mapping (the web form, the API)."""
    return _validated(raw, where)
