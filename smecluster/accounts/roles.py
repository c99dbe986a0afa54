"""Roles (read from roles.yaml) and region scope by GB/T 2260 code prefixes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

ROLES_FILE = Path(__file__).with_name("roles.yaml")


@dataclass(frozen=True)
class Role:
    """A role: its labels, whether it is a business or an administrator role, and its scope level."""

    id: str
    zh: str
    en: str
    kind: str
    scope: str


@lru_cache(maxsize=1)
def roles() -> dict[str, Role]:
    """Every role by id."""
    raw = yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))
    return {rid: Role(id=rid, **spec) for rid, spec in raw.items()}


def region_level(code: str) -> str:
    """province, city or county from a six-digit GB/T 2260 code."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def region_prefix(code: str) -> str:
    """The code prefix shared by every division inside `code` (32, 3205 or 320581)."""
    level = region_level(code)
    return code[:2] if level == "province" else code[:4] if level == "city" else code


def covers(scope_code: str | None, county_code: str | None) -> bool:
    """Whether a region scope (province, city or county) contains a county."""
    if not scope_code or not county_code:
        return False
    return county_code.startswith(region_prefix(scope_code))


def check_role_scope(role: str, region_code: str | None, uscc: str | None) -> None:
    """Raise ValueError unless the role exists and its scope is given at the right level."""
    spec = roles().get(role)
    if spec is None:
        raise ValueError(f"unknown role {role!r}; known: {', '.join(roles())}")
    if spec.scope == "none":
        if region_code or uscc:
            raise ValueError(f"role {role} is an administrator role and takes no region or enterprise")
        return
    if spec.scope == "nation":  # the ministry: every province, so no region code (and none to forge)
        if region_code or uscc:
            raise ValueError(f"role {role} covers the whole country and takes no region or enterprise")
        return
    if spec.scope == "enterprise":
        if not uscc:
            raise ValueError(f"role {role} needs an enterprise (--uscc)")
        return
    if not region_code:
        raise ValueError(f"role {role} needs a {spec.scope} region code (--region)")
    if region_level(region_code) != spec.scope:
        raise ValueError(f"role {role} needs a {spec.scope} code; {region_code} is a {region_level(region_code)}")
