"""Fixtures of the observatory tests: each test's outcome is kept on its item, so the browser
fixture can save a screenshot when a test failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Remember the report of each phase as ``item.report_<when>``."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
