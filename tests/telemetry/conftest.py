"""What every telemetry test starts from: none of the exporter's variables inherited."""

from __future__ import annotations

import pytest

# The switch, the endpoint, the bound and a caller's trace: a developer's shell (or a CI job that
# exports its own traces) must not turn export on, move it, or parent the test's spans.
OTEL_ENV = (
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "TRACEPARENT",
)


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_ENV:
        monkeypatch.delenv(name, raising=False)
