"""Helpers shared by the tests (fixtures live in tests/conftest.py).

Test modules import helpers from here, never from each other.
"""
