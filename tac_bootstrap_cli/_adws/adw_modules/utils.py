"""Shared helpers of the ADW layer: project paths, config.yml, ADW ids, redaction, summaries.

Everything here is used by the workflows in ``adws/`` and by the Claude Code hooks in
``.claude/hooks/``, so it imports nothing beyond the standard library and PyYAML (loaded lazily:
a hook that only needs ``redact`` must not pay for it).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# adws/adw_modules/utils.py -> the project root is two folders up.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = "config.yml"
DEFAULT_DB_PATH = "agents/orchestrator.db"
ORCHESTRATOR = "adw"
SUMMARY_LIMIT = 2048
ADW_ID_PATTERN = re.compile(r"[0-9a-f]{8}")

DEFAULT_CONFIG: dict[str, Any] = {
    "project": {"name": PROJECT_ROOT.name, "language": "python"},
    "commands": {"install": "", "test": "", "lint": "", "format": "", "run": ""},
    "agent": {"model": "sonnet", "cli": "claude"},
    "workflows": {
        "on_failure": {"retries": 2, "delay_seconds": 10.0},
        "cron": "*/5 * * * *",
        "default_workflow": "plan_build",
    },
    "database": {"path": DEFAULT_DB_PATH, "url": None},  # url: the team server, none by default
    "telemetry": {"otlp_endpoint": None},  # OTLP/HTTP base URL; export is off by default
}

# Values that look like credentials. Order matters: the key=value form runs last so that a
# recognised token inside it is already replaced.
_SECRET_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{10,}"),
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"glpat-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"xox[abprs]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"AIza[0-9A-Za-z_\-]{30,}"),
    re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{12,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|secret|token|passw(?:or)?d|auth)[\w\-]*\s*[=:]\s*[\"']?)[^\s\"',;]{4,}"
    ),
]
REDACTED = "[REDACTED]"


def project_root() -> Path:
    """The project this layer belongs to (the folder holding ``adws/`` and ``config.yml``)."""
    return PROJECT_ROOT


def project_environ(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the project's own commands and the agent: the user's, without this
    workflow's private virtual environment.

    ``uv run adws/adw_x.py`` runs the workflow in an environment of its own and puts that first on
    PATH (and in VIRTUAL_ENV); inherited as is, a pip project's ``python -m pytest`` would find
    the workflow's interpreter, which has no pytest, instead of the project's. An environment
    inside the project (the user ran the workflow with the project's own .venv) is the user's.
    """
    env = dict(os.environ if environ is None else environ)
    own = Path(sys.prefix)
    if sys.prefix == sys.base_prefix or own.is_relative_to(root):
        return env
    if env.get("VIRTUAL_ENV") and Path(env["VIRTUAL_ENV"]) == own:
        del env["VIRTUAL_ENV"]
    if "PATH" in env:
        kept = [p for p in env["PATH"].split(os.pathsep) if not Path(p).is_relative_to(own)]
        env["PATH"] = os.pathsep.join(kept)
    return env


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None and value != "":
            merged[key] = value
    return merged


def load_config(root: Path | None = None) -> dict[str, Any]:
    """``config.yml`` merged over the defaults; a missing file gives the defaults."""
    path = (root or PROJECT_ROOT) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _merge(DEFAULT_CONFIG, {})
    import yaml  # lazy: hooks that never read the config skip the import

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings")
    return _merge(DEFAULT_CONFIG, data)


def db_path(root: Path | None = None, config: dict[str, Any] | None = None) -> Path:
    """The run-log database: ``$TAC_DB_PATH``, else ``database.path`` of config.yml."""
    base = root or PROJECT_ROOT
    override = os.environ.get("TAC_DB_PATH")
    if override:
        path = Path(override).expanduser()
        return path if path.is_absolute() else base / path
    cfg = config if config is not None else load_config(base)
    return base / str(cfg["database"]["path"] or DEFAULT_DB_PATH)


DB_URL_ENV = "TAC_DB_URL"
DB_URL_SCHEMES = ("postgresql", "postgres")


def db_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a committed ``database.url`` (None: it can). A password must never be
    in config.yml (a committed file): it goes in PGPASSWORD or ~/.pgpass."""
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        has_password = parts.password is not None
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in DB_URL_SCHEMES or not parts.netloc:
        return "must be a postgresql://[user@]host[:port]/database URL"
    if has_password or "password" in query:
        return (
            "must not hold a password (config.yml is committed): put it in PGPASSWORD or"
            " ~/.pgpass, and keep postgresql://user@host/database here"
        )
    return None


def db_url(root: Path | None = None, config: dict[str, Any] | None = None) -> str | None:
    """The shared PostgreSQL server the run log is synced to: ``$TAC_DB_URL``, else
    ``database.url`` of config.yml; None when neither is set (the local file is all there is).
    A URL in config.yml with a password is refused (``ValueError``), as the config check does."""
    override = os.environ.get(DB_URL_ENV, "").strip()
    if override:
        return override
    cfg = config if config is not None else load_config(root)
    url = str((cfg.get("database") or {}).get("url") or "").strip()
    if not url:
        return None
    problem = db_url_problem(url)
    if problem:
        raise ValueError(f"{CONFIG_FILE}: database.url: {problem}")
    return url


def otlp_endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be ``telemetry.otlp_endpoint`` (None: it can): an http(s) base URL
    without credentials (config.yml is committed; they go in OTEL_EXPORTER_OTLP_HEADERS)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        has_credentials = parts.username is not None or parts.password is not None
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL such as http://localhost:4318 (OTLP/HTTP)"
    if has_credentials:
        return (
            "must not hold credentials (config.yml is committed): put them in"
            " OTEL_EXPORTER_OTLP_HEADERS"
        )
    return None


def retry_policy(config: dict[str, Any]) -> tuple[int, float]:
    """``(retries, delay_seconds)`` from ``workflows.on_failure``, clamped to sane values."""
    on_failure = config.get("workflows", {}).get("on_failure", {}) or {}
    retries = max(0, min(10, int(on_failure.get("retries", 2))))
    delay = max(0.0, min(3600.0, float(on_failure.get("delay_seconds", 10.0))))
    return retries, delay


def new_adw_id() -> str:
    """A fresh ADW id: 8 lower-case hex characters."""
    return secrets.token_hex(4)


def check_adw_id(value: str) -> str:
    """Return ``value`` if it is a valid ADW id, else raise ``ValueError`` saying the format."""
    if not ADW_ID_PATTERN.fullmatch(value):
        raise ValueError(f"invalid ADW id {value!r}: expected 8 lower-case hex characters")
    return value


def slugify(text: str, limit: int = 40) -> str:
    """A short file-name-safe form of a task (``Add a /health endpoint`` -> ``add-a-health-endpoint``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "task"


def redact(text: str) -> str:
    """``text`` with values that look like API keys, tokens or passwords replaced."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def summarize(value: Any, limit: int = SUMMARY_LIMIT) -> str:
    """A redacted, truncated text form of any JSON-like value, for log metadata."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = redact(text)
    if len(text) > limit:
        text = f"{text[:limit]}... [truncated {len(text) - limit} chars]"
    return text
