"""Accounts, roles scoped to regions, passwords and login sessions."""
