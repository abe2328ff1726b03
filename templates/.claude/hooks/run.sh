# Launcher of the Claude Code hooks (added by tac-bootstrap). settings.json runs every hook as
#   /bin/sh "$CLAUDE_PROJECT_DIR"/.claude/hooks/run.sh <hook>
# so the command Claude Code shows (and repeats in every block message) stays short.
#
# <hook>.py needs only the standard library: it runs on the system python3 (>= 3.11; -S skips
# site-packages, which it does not need and which cost start-up time), else through
# `uv run --script` (its PEP 723 header). Exit code 2 means "block" to Claude Code, so:
# - pre_tool_use (the guard) fails closed: 0 and 2 pass through, anything else becomes 2;
# - every other hook never blocks: any failure becomes 1 (a non-blocking error, message shown).
hook=${1-}
case $0 in
*/*) here=${0%/*} ;;
*) here=. ;;
esac
install="https://docs.astral.sh/uv/, or: python3 -m pip install uv"

finish() { # $1: exit code of the hook, $2: what ran it
  [ "$1" -eq 0 ] && exit 0
  if [ "$hook" = pre_tool_use ]; then
    [ "$1" -eq 2 ] && exit 2
    echo "tac guard: could not run with $2 (exit $1); blocking to be safe. Fix $2 or remove the PreToolUse hook from .claude/settings.json" >&2
    exit 2
  fi
  echo "tac hook $hook: failed with $2 (exit $1); event not recorded" >&2
  exit 1
}

case $hook in
'' | *[!a-z_]*)
  echo "tac hook: usage: run.sh <hook> (got '$hook')" >&2
  exit 1
  ;;
esac

if command -v python3 >/dev/null 2>&1; then
  # 75: this python3 is too old; nothing has read stdin yet, so uv can take the event instead.
  python3 -S -c 'import sys
if sys.version_info < (3, 11):
    sys.exit(75)
sys.path[0] = sys.argv[1]
__import__(sys.argv[2]).main()' "$here" "$hook"
  rc=$?
  [ "$rc" -ne 75 ] && finish "$rc" python3
fi
if command -v uv >/dev/null 2>&1; then
  uv run --quiet --script "$here/$hook.py"
  finish "$?" uv
fi
if [ "$hook" = pre_tool_use ]; then
  echo "tac guard: needs python3 >= 3.11 or uv ($install); blocking" >&2
  exit 2
fi
echo "tac hook $hook: needs python3 >= 3.11 or uv ($install); event not recorded" >&2
exit 1
