"""Pages are tested in a real browser: the fixtures (browser, page) are in tests/conftest.py."""
