"""Helpers the tests share, imported as modules; conftest.py keeps only fixtures and hooks."""
