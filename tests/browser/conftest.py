"""Browser tests use the fixtures of tests/browser_support.py (loaded by tests/conftest.py)."""

from tests.browser_support import LiveServer, axe_violations

__all__ = ["LiveServer", "axe_violations"]
