"""Questions: the stack, the project name, the commands, and the plan review before writing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tac_bootstrap_cli.errors import TacError
from tac_bootstrap_cli.ui.console import err, escape, out
from tac_bootstrap_cli.ui.plans import show_plan

if TYPE_CHECKING:
    from tac_bootstrap_cli.answers import Answers
    from tac_bootstrap_cli.detect import Detection
    from tac_bootstrap_cli.plan import Plan


def ask_stack(proposal: Answers, detection: Detection | None) -> Answers:
    """Ask name, language, framework and package manager, offering the proposal as defaults."""
    from rich.prompt import Prompt

    from tac_bootstrap_cli.answers import Answers
    from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES

    if detection is not None and detection.found:
        out().print(f"[dim]Detected: {escape('; '.join(detection.evidence))}[/]")
    name = proposal.name
    if name is None or name == "":
        name = Prompt.ask("Project name", console=out())
    language = Prompt.ask(
        "Language", choices=list(LANGUAGES), default=proposal.language or "python", console=out()
    )
    frameworks = list(FRAMEWORKS[language])
    fw_default = proposal.framework if proposal.framework in frameworks else frameworks[0]
    framework = Prompt.ask("Framework", choices=frameworks, default=fw_default, console=out())
    managers = list(LANGUAGES[language])
    pm_default = proposal.package_manager if proposal.package_manager in managers else managers[0]
    pm = Prompt.ask("Package manager", choices=managers, default=pm_default, console=out())
    return Answers(name, language, framework, pm, dict(proposal.commands))


def ask_name(check: Callable[[str], object]) -> str:
    """Ask for the project name until ``check`` (which raises ``TacError``) accepts one."""
    from rich.prompt import Prompt

    while True:
        name = Prompt.ask("Project name", console=out())
        try:
            check(name)
        except TacError as exc:  # say why and ask again: the person is right here
            err().print(f"[red]{escape(str(exc))}[/]")
            continue
        return name


def confirm(question: str) -> bool:
    """``question [y/N]``: True for y/yes, False for n/no or Enter; anything else asks again."""
    while True:
        answer = out().input(f"{escape(question)} \\[y/N] ").strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("", "n", "no"):
            return False
        err().print("Please answer y or n.")


def review(plan: Plan, *, always_show: bool) -> bool:
    """Before writing: the plan (as ``--dry-run`` shows it; with ``always_show`` False only when
    files that exist would change), and if some would, whether to apply it (True: go on)."""
    from tac_bootstrap_cli.plan import existing_changes

    changing = existing_changes(plan)
    if not changing and not always_show:
        return True
    show_plan(plan, title=str(plan.root))
    if not changing:
        return True  # only new files: nothing of the user's is touched
    n = len(changing)
    names = ", ".join(fa.path for fa in changing)
    out().print(f"{n} existing file{'s' * (n != 1)} will change: {escape(names)}")
    return confirm("Apply these changes?")


def ask_commands(commands: dict[str, str]) -> dict[str, str]:
    """Ask each command the agents will run, offering the detected or default one."""
    from rich.prompt import Prompt

    from tac_bootstrap_cli.config import COMMAND_NAMES

    answered = dict(commands)
    for key in COMMAND_NAMES:
        answered[key] = Prompt.ask(
            f"{key.capitalize()} command", default=commands.get(key, ""), console=out()
        )
    return answered
