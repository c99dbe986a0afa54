"""What a scenario run reports: its failures and a file that is not a scenario file.

Kept apart from the two runners (cluster scenarios, tier scenarios) so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["BASES_FILE", "ScenarioFailure", "ScenarioFileError", "read_yaml"]


class ScenarioFileError(ValueError):
    """A file given as a scenario file that is not one (wrong shape), named with the reason."""


BASES_FILE = "bases.yaml"  # base firms of the tier scenarios: data for them, not a scenario file


@dataclass
class ScenarioFailure:
    """A case whose statuses differ from what it expects."""

    file: str
    case: str
    check: str  # a criterion id, 'outcome', or another result key
    expected: object
    got: object


def read_yaml(path: Path | str):
    """A scenario file's YAML; ScenarioFileError naming the file, line and column when it cannot be read."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(f"{path}: not a scenario file: not UTF-8 text (byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioFileError(f"{path}: not a scenario file: invalid YAML{where}: {problem}") from exc
