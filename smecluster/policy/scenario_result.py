"""What a scenario run reports: its failures and a file that is not a scenario file.

Kept apart from the two runners (cluster scenarios, tier scenarios) so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BASES_FILE", "ScenarioFailure", "ScenarioFileError"]


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
