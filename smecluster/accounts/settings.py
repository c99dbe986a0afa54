"""Security settings: defaults here, changes by the security administrator stored in the database."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smecluster.accounts.models import SecuritySetting

DEFAULTS: dict[str, int] = {
    "lockout_threshold": 5,  # failed logins in a row before the account locks
    "lockout_minutes": 30,
    "session_idle_minutes": 30,
    "session_max_hours": 8,
    "password_min_length": 12,
}
LIMITS: dict[str, tuple[int, int]] = {
    "lockout_threshold": (3, 10),
    "lockout_minutes": (5, 1440),
    "session_idle_minutes": (5, 240),
    "session_max_hours": (1, 24),
    "password_min_length": (10, 64),
}


def security_settings(session: Session) -> dict[str, int]:
    """The settings in force: stored values over the defaults."""
    stored = {row.key: row.value.get("v") for row in session.scalars(select(SecuritySetting))}
    return {k: int(stored.get(k, v)) for k, v in DEFAULTS.items()}


def change_setting(session: Session, key: str, value: Any) -> int:
    """Store one setting after checking its name and range; returns the stored value."""
    if key not in DEFAULTS:
        raise ValueError(f"unknown security setting {key!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a whole number") from None
    low, high = LIMITS[key]
    if not low <= number <= high:
        raise ValueError(f"{key} must be between {low} and {high}")
    row = session.get(SecuritySetting, key)
    if row is None:
        session.add(SecuritySetting(key=key, value={"v": number}))
    else:
        row.value = {"v": number}
    return number


_CACHE: dict[str, tuple[float, dict[str, int]]] = {}
CACHE_SECONDS = 5.0


def cached_settings(engine: Engine) -> dict[str, int]:
    """The settings in force, re-read at most every few seconds (they are read on every request)."""
    key = str(engine.url)
    hit = _CACHE.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    with Session(engine) as s:
        current = security_settings(s)
    _CACHE[key] = (time.monotonic(), current)
    return current


def forget_cached_settings() -> None:
    """Drop the cache (after a change, so this process applies it at once)."""
    _CACHE.clear()
