"""Errors meant for a person: an English template with %(name)s fields that the web layer translates.

`N_()` marks a template for the message catalogue (Babel extracts it) and returns it unchanged;
`str(error)` is the English sentence, so the CLI and logs need nothing more.
"""

from __future__ import annotations

from typing import Any


def N_(template: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message template for extraction; returns it unchanged."""
    return template


class UserError(ValueError):
    """A refusal to explain to the person who asked, translatable by template and fields."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(template % self.params if self.params else template)

    @classmethod
    def carry(cls, error: Exception) -> UserError:
        """The same message as another error (keeping its template when it has one)."""
        if isinstance(error, UserError):
            return cls(error.template, **error.params)
        return cls("%(reason)s", reason=str(error))
