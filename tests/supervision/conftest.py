"""Browser fixtures for the supervision tests (tests/browser's, reused)."""

from tests.browser.conftest import browser, live_server, page  # noqa: F401
