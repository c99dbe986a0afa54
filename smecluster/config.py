"""Where the product keeps its data: one setting, read from the environment or the command line."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATABASE_FILE = "smecluster.db"
ENV_DATABASE_URL = "SMECLUSTER_DATABASE_URL"


def database_url(explicit: str | None = None) -> str:
    """The database URL: `--db` first, then SMECLUSTER_DATABASE_URL, else a SQLite file here.

    A bare path (no `://`) is taken as a SQLite file.
    """
    url = explicit or os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_FILE
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
