"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smecluster.messages import N_, UserError

_hasher = PasswordHasher()


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2 parameters so a test suite can create many accounts; never for real use."""
    global _hasher, _DUMMY
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY = _hasher.hash("not-a-password-0000")


# A hash of a throw-away password: verifying against it costs the same time as a real account,
# so a login for an unknown user name takes as long as one for a known name.
_DUMMY = _hasher.hash("not-a-password-0000")


class PasswordPolicyError(UserError):
    """A password that the policy refuses, with the reason."""


def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash` (the same argon2 work when the hash is missing or unusable)."""
    usable = bool(stored_hash) and stored_hash.startswith("$argon2")
    try:
        return _hasher.verify(stored_hash if usable else _DUMMY, password) and usable
    except (VerificationError, InvalidHashError):
        return False


def check_policy(password: str, username: str, min_length: int = 12) -> None:
    """Raise PasswordPolicyError unless the password is long enough, mixed, and not the user name."""
    if len(password) < min_length:
        raise PasswordPolicyError(N_("password must have at least %(min_length)s characters"), min_length=min_length)
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        raise PasswordPolicyError(N_("password must mix at least three of: lower case, upper case, digits, symbols"))
    if username and username.lower() in password.lower():
        raise PasswordPolicyError(N_("password must not contain the user name"))
