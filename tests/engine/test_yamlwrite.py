"""``yamlwrite.dump`` writes config.yml without loading PyYAML: held to PyYAML's own
``safe_dump`` as an oracle. Whatever it writes is byte for byte PyYAML's text; what it declines
(None) PyYAML writes instead, and the usual configs are never declined."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli import yamlwrite
from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo, dump_config


def pyyaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


# Text around every rule the emitter has: indicators first and inside, quotes, spaces at either
# end, numbers, booleans, nulls and dates as text, document markers, long lines, non-ASCII.
EDGE_TEXTS = [
        "", " ", "a", "yes", "No", "on", "OFF", "null", "~", "<<", "=", "1", "-1", "+1", "0x1F",
        "0o7", "017", "0b101", "1_000", "1.5", ".5", "1e3", "1.0e+3", ".inf", "-.Inf", ".nan",
        "1:20", "190:20:30.15", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "- a", "-a", "? a",
        "?a", ": a", ":a", "a:", "a: b", "a:b", "a #b", "a#b", "#a", "---", "--- a", "...", "a'b",
        "'a'", '"a"', "*/5 * * * *", "*a", "&a", "!a", "|a", ">a", "%a", "@a", "`a", ",a", "[a]",
        "{a}", "a,b", "a[b]", "uv run pytest", "uv run ruff check .", "npm run test -- --watch",
        "x" * 70, "a " * 40, "é", "tab\there", "line\nbreak", "a ", " a",
]  # fmt: skip
EDGES = st.sampled_from(EDGE_TEXTS)
TEXT = st.one_of(EDGES, st.text(alphabet=" -?:#'\",[]{}&*!|>%@`.0123456789aeEnoxy_/", max_size=12))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
KEYS = st.one_of(
    st.sampled_from(
        [
            "project",
            "name",
            "on",
            "yes",
            "null",
            "a b",
            "_x",
            "x1",
            "1x",
            "version",
            "k" * 127,
            "k" * 128,
        ]
    ),
    st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True),
)
DATA = st.recursive(
    st.dictionaries(KEYS, SCALARS, max_size=4),
    lambda inner: st.dictionaries(KEYS, st.one_of(SCALARS, inner), max_size=4),
    max_leaves=20,
)


@settings(max_examples=2000, deadline=None)
@given(DATA)
def test_what_it_writes_is_pyyaml_s_text(data: dict[str, Any]) -> None:
    text = yamlwrite.dump(data)
    if text is not None:
        assert text == pyyaml(data)


@pytest.mark.parametrize("value", EDGE_TEXTS)
def test_each_edge_as_pyyaml_writes_it(value: str) -> None:
    data = {"project": {"name": value}}
    text = yamlwrite.dump(data)
    if text is not None:
        assert text == pyyaml(data)


@pytest.mark.parametrize(
    "project",
    [
        {"name": "demo"},
        {"name": "shop", "language": "typescript", "package_manager": "pnpm"},
        {"name": "svc", "language": "go"},
        {"name": "api", "framework": "fastapi"},
        {"name": "web", "language": "javascript", "framework": "nextjs"},
    ],
)
def test_the_usual_configs_are_written_without_pyyaml(project: dict[str, str]) -> None:
    config = ProjectConfig(project=ProjectInfo(**project))
    data = config.to_data(exclude_none=True)
    data.pop("answers")
    data.pop("telemetry")
    assert yamlwrite.dump(data) == pyyaml(data)  # not declined
    assert dump_config(config).endswith(pyyaml(data))
