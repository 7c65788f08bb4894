"""Test files that lesson 08 runs with pytest, on a test database, and shows.

They live outside ``tests/`` (the project's own suite): one of them is meant
to fail on the broken view, to show what a test that can see the race reports.
"""
