"""Security settings: defaults here, changes by the security administrator stored in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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
