"""The data-quality checks as data (checks.yaml): id, kind, group, severity, reasons and parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from smecluster.yamlio import safe_load

CHECKS_FILE = Path(__file__).with_name("checks.yaml")
SEVERITIES = ("high", "medium", "low", "signal")  # most doubtful first
GROUPS = ("values", "years", "duplicates", "peers", "declared", "digits")


class CheckError(ValueError):
    """A checks file that cannot be used (names the check and what is wrong)."""


@dataclass(frozen=True)
class Check:
    """One data-quality check: what it doubts, how badly, and its bounds."""

    id: str
    kind: str
    group: str
    severity: str
    reason_zh: str
    reason_en: str
    params: dict[str, Any] = field(default_factory=dict)

    def reason(self, locale: str = "zh", **extra: Any) -> str:
        """The reason in `locale` (zh | en), its {placeholders} filled from the parameters (and `extra`)."""
        text = self.reason_zh if locale.startswith("zh") else self.reason_en
        values = {k: v for k, v in self.params.items() if not isinstance(v, list | dict)}
        try:
            return text.format(**values, **extra)
        except (KeyError, IndexError):
            return text


@dataclass(frozen=True)
class Catalogue:
    """Every check, in file order, and the figures each cluster indicator rests on."""

    checks: tuple[Check, ...]
    depends: dict[str, dict[str, Any]]

    def get(self, check_id: str) -> Check:
        """The check with this id (KeyError if unknown)."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)


def parse(data: dict, source: str = "checks.yaml") -> Catalogue:
    """A catalogue from the parsed YAML; raises CheckError naming the check and the problem."""
    from smecluster.quality.sql import BUILDERS

    checks, seen = [], set()
    for raw in data.get("checks") or []:
        cid = raw.get("id")
        where = f"{source}: check {cid!r}"
        missing = [k for k in ("id", "kind", "group", "severity", "reason_zh", "reason_en") if not raw.get(k)]
        if missing:
            raise CheckError(f"{where}: missing {', '.join(missing)}")
        if cid in seen:
            raise CheckError(f"{where}: the id is used twice")
        if raw["kind"] not in BUILDERS:
            raise CheckError(f"{where}: unknown kind {raw['kind']!r} (known: {', '.join(sorted(BUILDERS))})")
        if raw["severity"] not in SEVERITIES:
            raise CheckError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if raw["group"] not in GROUPS:
            raise CheckError(f"{where}: group must be one of {', '.join(GROUPS)}")
        seen.add(cid)
        checks.append(Check(cid, raw["kind"], raw["group"], raw["severity"], raw["reason_zh"], raw["reason_en"],
                            dict(raw.get("params") or {})))
    return Catalogue(tuple(checks), dict(data.get("depends") or {}))


@lru_cache(maxsize=4)
def load_checks(path: Path | None = None) -> Catalogue:
    """The shipped checks (or those of `path`)."""
    path = Path(path or CHECKS_FILE)
    return parse(safe_load(path.read_text(encoding="utf-8")) or {}, path.name)
