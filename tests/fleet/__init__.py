"""Helpers for the tests of several processes on one PostgreSQL queue."""
