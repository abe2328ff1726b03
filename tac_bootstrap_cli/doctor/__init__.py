"""``doctor``: is a generated project's agentic layer healthy? Checks as plain functions.

Each check returns ``Check``s (name, status ok|warn|fail, one-line message, one-line remedy,
whether ``--fix`` can repair it). Repairs never touch what a user edited: they restore the files
the layer cannot work without (settings, hook scripts and their support module, the .gitignore
block) as the current templates render them, leave other deleted files deleted (as upgrade
does), put back executable bits, record missing bases of unedited files, rebuild a lost manifest
(from git, else from the bases), and migrate the database schema (after a backup).

The modules, one concept each: ``report`` (``Check``, ``DoctorReport``), ``project`` (what the
checks read, and the shared restore), ``state`` (config, templates, manifest, bases, generated
files, conflict markers, leftovers), ``claude`` (Claude Code's format facts), ``formats``
(settings.json, commands and agents checked against them), ``hooks`` (hook scripts, and running
them), ``environment`` (database, tools on PATH), ``gitignore``, and ``runner`` (every check,
and ``--fix``).
"""

from __future__ import annotations

from tac_bootstrap_cli.doctor.gitignore import ignored
from tac_bootstrap_cli.doctor.project import Project, load_project
from tac_bootstrap_cli.doctor.report import Check, DoctorReport, Status
from tac_bootstrap_cli.doctor.runner import CHECKS, diagnose, run_doctor
from tac_bootstrap_cli.doctor.state import conflict_marker_line

__all__ = [
    "CHECKS",
    "Check",
    "DoctorReport",
    "Project",
    "Status",
    "conflict_marker_line",
    "diagnose",
    "ignored",
    "load_project",
    "run_doctor",
]
