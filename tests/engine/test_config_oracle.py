"""``config.py`` validates by hand what Pydantic models validated before (~70 ms of every command
was importing Pydantic and building them): held to those models (``tests/config_oracle.py``) as
an oracle. For any data shaped like ``config.yml``'s, both give the same config (as plain data),
or the same problems at the same keys, in the same order."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tac_bootstrap_cli.config import ConfigInvalid, ProjectConfig, ProjectInfo, dump_config
from tests import config_oracle

# Text that is almost a number, a stack name, a cron line or a URL: where the rules have edges.
# Around a number: spaces Pydantic strips (Unicode White_Space) and separators it does not.
NUMERIC = st.text(alphabet="0123456789 +-._eEinfatyxINF\t\x1c\x1f\xa0\u2000\u200b", max_size=8)
KNOWN = st.sampled_from(
    [
        "python", "typescript", "go", "rust", "cobol", "uv", "npm", "pip", "cargo", "poetry",
        "none", "fastapi", "nextjs", "django", "plan_build", "sdlc", "*/5 * * * *", "61 * * * *",
        "0 9 * * 1-5", "agents/x.db", "/abs.db", "../up.db", "", " ", "demo", "my-app", "a b",
        "postgresql://host/db", "postgresql://u:secret@host/db", "http://localhost:4318",
        "ftp://x", "sonnet", "٣", "3.0", "3.5", "1_0", "-1", "1e3", "inf", "nan",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-20, max_value=5000),
    st.floats(allow_nan=True, allow_infinity=True),
    NUMERIC,
    KNOWN,
    st.binary(max_size=4),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.one_of(KNOWN, st.integers(0, 3)), SCALARS, max_size=2),
)


def section(keys: list[str], sub: dict[str, st.SearchStrategy[Any]] | None = None) -> Any:
    """Data for one section: any of its keys (mostly fitting values), sometimes an unknown one,
    sometimes not a mapping at all."""
    values = {k: (sub or {}).get(k, st.one_of(KNOWN, VALUES)) for k in keys}
    mapping = st.fixed_dictionaries({}, optional={**values, "extra": VALUES})
    return st.one_of(mapping, mapping, mapping, VALUES)


ON_FAILURE = section(["retries", "delay_seconds"])
CONFIG = st.fixed_dictionaries(
    {"project": section(["name", "language", "framework", "package_manager"])},
    optional={
        "version": st.one_of(st.just(1), VALUES),
        "commands": section(["install", "test", "lint", "format", "run"]),
        "agent": section(["model", "cli"]),
        "workflows": section(
            ["on_failure", "cron", "default_workflow"], {"on_failure": ON_FAILURE}
        ),
        "database": section(["path", "url"]),
        "telemetry": section(["otlp_endpoint"]),
        "templates": VALUES,
        "answers": VALUES,
        "unknown": VALUES,
    },
)


def ours(data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", ProjectConfig.from_data(data).to_data()
    except ConfigInvalid as exc:
        return "invalid", [(tuple(loc), msg) for loc, msg in exc.problems]


def pydantic(data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", config_oracle.ProjectConfig.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        return "invalid", [
            (tuple(e["loc"]), str(e["msg"]).removeprefix("Value error, ")) for e in exc.errors()
        ]


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (a NaN answer stays a NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(type(a) is type(b) and a == b)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIG)
def test_the_same_config_or_the_same_problems_as_the_pydantic_models(data: dict[str, Any]) -> None:
    assert same(ours(data), pydantic(data))


@pytest.mark.parametrize(
    "data",
    [
        {"project": {"name": "demo"}},
        {"project": {"name": "demo", "language": "rust"}, "workflows": {"on_failure": {}}},
        {"project": {"name": "shop", "language": "typescript", "package_manager": "pnpm"}},
        {"project": {"name": "demo"}, "commands": {"test": "make test"}, "answers": {"a": [1]}},
        {"project": {"name": "demo"}, "database": {"url": " postgresql://db/x "}},
        {"project": {"name": "demo"}, "workflows": {"on_failure": {"retries": "3", "delay_seconds": "1e3"}}},
        {"project": {"name": "demo"}, "telemetry": {"otlp_endpoint": "http://localhost:4318"}},
    ],
)  # fmt: skip
def test_valid_configs_agree_and_dump_the_same(data: dict[str, Any]) -> None:
    kind, dumped = ours(data)
    assert kind == "ok" and same((kind, dumped), pydantic(data))
    config = ProjectConfig.from_data(data)
    # Built by its constructor, or from its own dump: the same config, and config.yml's text.
    assert ProjectConfig.from_data(config.to_data()) == config
    oracle = config_oracle.ProjectConfig.model_validate(data)
    oracle_dump = oracle.model_dump(mode="json", exclude_none=True)
    assert config.to_data(exclude_none=True) == oracle_dump


@pytest.mark.parametrize(
    "data",
    [
        {"project": {"name": "d"}, "answers": {"r": float("nan"), "i": float("-inf")}},
        {"project": {"name": "d"}, "answers": {"m": {True: 1, None: 2, 1.5: 3, b"k": 4}}},
        {"project": {"name": "d"}, "answers": {"t": (1, {2}), "b": b"x"}},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"retries": "0" * 4400 + "1"}}},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"retries": "-" + "0" * 9 + "1"}}},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"retries": "9" * 4301}}},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"retries": "9" * 4300}}},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"retries": bytearray(b"3")}}},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"delay_seconds": bytearray(b"3")}}},
        {"project": {"name": bytearray(b"d")}},
        {"project": {"name": "d"}, "version": b"\x1c0"},
        {"project": {"name": "d"}, "version": "\xa01\u2000"},
        {"project": {"name": "d"}, "workflows": {"on_failure": {"delay_seconds": "\x1f1"}}},
    ],
)  # fmt: skip
def test_edges_the_strategies_rarely_reach_agree(data: dict[str, Any]) -> None:
    """Found by a review: NaN answers, odd keys, 4,300-digit integers, bytearrays."""
    assert same(ours(data), pydantic(data))


def test_a_str_subclass_becomes_plain_text() -> None:
    class Name(str):
        pass

    config = ProjectConfig.from_data({"project": {"name": Name("demo")}})
    assert type(config.project.name) is str


def test_the_constructor_validates_like_the_data() -> None:
    assert ProjectInfo(name="demo").package_manager == "uv"
    with pytest.raises(ConfigInvalid, match=r"^language: language 'cobol' is not one of"):
        ProjectInfo(name="demo", language="cobol")
    config = ProjectConfig(project=ProjectInfo(name="demo", language="go"))
    assert config.commands.test  # the stack's default filled in, as from data
    assert config == ProjectConfig.from_data({"project": {"name": "demo", "language": "go"}})
    with pytest.raises(ConfigInvalid, match="retries: Input should be less than or equal to 10"):
        config.workflows.on_failure.replace(retries=11)
    assert "version: 1\nproject:\n  name: demo\n" in dump_config(config)
