"""Analytics: indicators computed from the registry as column expressions (SQL run by DuckDB)."""
