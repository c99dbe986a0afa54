"""State and helpers shared by the CLI modules."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


@dataclass
class _State:
    db: str | None = None


STATE = _State()


def fail(message: str, code: int = 1) -> None:
    """Print a clear error and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    sys.exit(code)
