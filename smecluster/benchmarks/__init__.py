"""Benchmarks run by `smecluster bench ...` and bench/*.py; each prints its figures."""
