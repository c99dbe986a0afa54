"""Schema migrations run on both databases."""

import pytest
from sqlalchemy import inspect

from smecluster.db import open_database


@pytest.mark.real_migrations
def test_upgrade_creates_registry_tables(database_url):
    """Migrating an empty database creates every registry table."""
    engine = open_database(database_url)
    names = set(inspect(engine).get_table_names())
    assert {"region", "industry", "enterprise", "enterprise_year", "cluster", "cluster_member"} <= names
