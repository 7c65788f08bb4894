"""Test files that lessons 03 to 05 and 08 run with pytest, on a test database, and show.

They live outside ``tests/`` (the project's own suite): one of them is meant
to fail on the broken view, to show what a test that can see the race reports.
"""
