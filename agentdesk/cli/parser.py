"""Command-line grammar: every command, its options and their help (README.md, "Commands")."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentdesk import __version__
from agentdesk.server.token_terms import DEFAULT_EXPIRY_DAYS, expiry_days_problem

DECIDE_KINDS = ("refund", "voucher", "callback", "escalate", "note")
PROPOSABLE_KINDS = ("refund", "voucher", "callback")

DECIDE_EPILOG = """\
A script has no undo key: the decision is queued for the backend at once (no undo
window), after the same checks as in the workstation (the authority matrix, the
customer's 30-day caps, callback hours). Without --amount a refund takes the
case's disputed amount and a voucher the default goodwill amount; without --at a
callback takes the next free slot. Beyond a limit nothing is clipped: the decision
is refused (exit 1), naming the rule and the limit, and the command that escalates
it is printed.

--amount is a decimal such as 39.90 in the case's currency (no comma, no exponent).
--at is read as the workstation reads it, on the customer's clock: 14:30 (the next
time it is that late), tomorrow 09:00, Mon 10:15, 2026-11-24 14:30, or ISO 8601
with an offset (2026-11-24T14:30:00+01:00).

examples:
  agentdesk decide refund c-1001 --as a-7 --reason "double charge"
  agentdesk decide callback p.lindner@example.net --as a-7 --at 14:30
  agentdesk decide escalate c-1001 --as a-7 --propose refund --amount 80.00 --reason "fee for our fault"
  agentdesk decide note "+49 170 555 0199" --as a-7 --reason "asked for a paper invoice"
"""


def undo_window_argument(text: str) -> str:
    """Validated here (exit 2 on a bad value); turned into a timedelta by the command."""
    from agentdesk.config import undo_window_from_text

    try:
        undo_window_from_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_shared_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Shared options may stand before or after the subcommand. The subcommand's
    # copies default to SUPPRESS so they never overwrite a value given earlier.
    default = None if top_level else argparse.SUPPRESS
    flag_default = False if top_level else argparse.SUPPRESS
    parser.add_argument("--db", type=Path, default=default, metavar="PATH",
                        help="the local store (default: $AGENTDESK_DB or the user data directory)")
    parser.add_argument("--as", dest="agent", default=default, metavar="AGENT",
                        help="who is working, by agent id")
    parser.add_argument("--authority", type=Path, default=default, metavar="FILE",
                        help="the authority matrix (TOML; default: the settings file's 'authority', "
                             "else the demo's matrix)")
    parser.add_argument("--server", default=default, metavar="URL",
                        help="the backend (default: $AGENTDESK_SERVER, else the address saved by login)")
    parser.add_argument("--read-only", action="store_true", default=flag_default,
                        help="work read-only, as a supervisor would: nothing is decided")
    parser.add_argument("--json", action="store_true", default=flag_default,
                        help="print JSON, one object a line")


def _add_undo_window(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    parser.add_argument("--undo-window", type=undo_window_argument,
                        default=None if top_level else argparse.SUPPRESS, metavar="SECONDS|unlimited",
                        help="how long a decision in the workstation stays pending and undoable: "
                             "0 to 86400 seconds, or 'unlimited' (default: the settings file's "
                             "undo_window_seconds, else 10)")


def _add_plain(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    parser.add_argument("--plain", action="store_true", default=False if top_level else argparse.SUPPRESS,
                        help="a line-oriented session instead of the full-screen workstation: a prompt, a "
                             "command, a text answer; for screen readers (type help in it)")


class Parser(argparse.ArgumentParser):
    """The ``agentdesk`` parser; knows its subcommands' parsers, to report their usage errors."""

    commands: dict[str, argparse.ArgumentParser]

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        if parsed.command == "decide":
            _check_decide(self.commands["decide"], parsed)
        if parsed.plain and parsed.command not in (None, "demo"):
            self.error(f"--plain goes with the workstation (no command) or demo, not with {parsed.command}")
        return parsed


REPLY_EPILOG = """examples:
  agentdesk reply c-1001 --as a-7 --text "Your eSIM is active now."
  agentdesk reply +491515550142 --as a-7 --channel sms --text "Your QR code is on its way."
  fold -w 72 answer.txt | agentdesk reply c-1001 --as a-7 --text -
"""


def _check_decide(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot say by itself about ``decide``; each is bad usage (exit 2)."""
    if args.agent is None and not _may_know_user(args):
        parser.error("--as AGENT is required: who takes the decision (or log in to a backend, "
                     "or set $AGENTDESK_TOKEN with a backend)")
    if args.kind == "escalate":
        if args.propose is None:
            parser.error("escalate needs --propose KIND: what the role above should decide "
                         f"({', '.join(PROPOSABLE_KINDS)})")
        kind = args.propose
    else:
        if args.propose is not None:
            parser.error("--propose only goes with escalate")
        kind = args.kind
    if args.kind == "note" and not (args.reason or "").strip():
        parser.error("a note needs --reason TEXT: the note itself")
    if args.amount is not None and kind not in ("refund", "voucher"):
        parser.error(f"--amount does not go with {kind}")
    if args.at is not None and kind != "callback":
        parser.error(f"--at does not go with {kind}")


def _may_know_user(args: argparse.Namespace) -> bool:
    """With a backend the token decides who is working: the saved login's user, or whom ``/me`` names."""
    from agentdesk.desk.identity import may_know_user

    return may_know_user(args.server)


def build_parser() -> Parser:
    parser = Parser(
        prog="agentdesk",
        description="A terminal workstation for customer-service agents. "
        "Without a command it opens the workstation on the local store.",
    )
    parser.add_argument("--version", action="version", version=f"agentdesk {__version__}")
    _add_shared_options(parser, top_level=True)
    _add_undo_window(parser, top_level=True)
    _add_plain(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = {}

    def command(name: str, help_text: str, **extra: object) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, **extra)  # type: ignore[arg-type]
        _add_shared_options(sub, top_level=False)
        parser.commands[name] = sub
        return sub

    demo = command("demo", "open the workstation on a fresh demo store (no server needed)")
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated data (default 7)")
    demo.add_argument("--build-only", action="store_true", help="build the demo store and exit")
    _add_undo_window(demo, top_level=False)
    _add_plain(demo, top_level=False)

    load = command("import", "read interchange JSONL into the local store; '-' is stdin")
    load.add_argument("file", metavar="FILE")
    load.add_argument("--max-record-bytes", type=int, default=1 << 20, metavar="N",
                      help="refuse records longer than N bytes (default 1 MiB)")

    knowledge = command("knowledge", "knowledge articles (Markdown with front matter)")
    knowledge_commands = knowledge.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)
    knowledge_import = knowledge_commands.add_parser(
        "import", help="load every *.md under DIR into the local store; with --server also upload them",
        description="load every *.md under DIR (subfolders too) into the local store as knowledge articles; "
                    "a file imported again updates its article; with --server they are also uploaded to the "
                    "backend (an admin token), so every workstation gets them by sync")
    _add_shared_options(knowledge_import, top_level=False)
    knowledge_import.add_argument("folder", metavar="DIR", type=Path)

    command("export", "write the store as interchange JSONL to stdout")
    command("queue", "the queue in fair order, one customer a line, with the reason for its place")
    command("floor", "the supervisor's floor: agents and whom they are on (with a backend), the queue's longest "
                     "waits, missed deadlines, escalations waiting, promises by owner")
    timeline = command("timeline", "a customer's merged timeline, oldest first, one entry a line")
    timeline.add_argument("customer", metavar="CUSTOMER", help="customer id, e-mail address or phone number")

    decide = command(
        "decide", "take a decision as the current agent (--as): refund, voucher, callback, escalate or note",
        epilog=DECIDE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    decide.add_argument("kind", metavar="KIND", choices=DECIDE_KINDS,
                        help=f"what to decide: {', '.join(DECIDE_KINDS)}")
    decide.add_argument("customer", metavar="CUSTOMER", help="customer id, e-mail address or phone number")
    decide.add_argument("--amount", metavar="N",
                        help="refund or voucher amount, e.g. 39.90 (default: the suggestion)")
    decide.add_argument("--at", metavar="TIME",
                        help="callback time (default: the next free slot in callback hours)")
    decide.add_argument("--reason", metavar="TEXT", help="why; for a note, the note itself")
    decide.add_argument("--case", metavar="CASE",
                        help="the case decided on (default: the customer's oldest open case with money disputed)")
    decide.add_argument("--propose", metavar="KIND", choices=PROPOSABLE_KINDS,
                        help=f"escalate only: what the role above should decide ({', '.join(PROPOSABLE_KINDS)})")

    answer = command("reply", "queue a reply to a customer as the current agent (--as); the backend sends it",
                     epilog=REPLY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    answer.add_argument("customer", metavar="CUSTOMER", help="customer id, e-mail address or phone number")
    answer.add_argument("--text", required=True, metavar="TEXT",
                        help="what the customer reads (your signature is added); - reads it from stdin")
    answer.add_argument("--channel", choices=("email", "sms"), type=str.lower,
                        help="email or sms (default: the customer's preferred channel that can be sent)")
    answer.add_argument("--case", metavar="CASE",
                        help="the case it answers (default: the customer's oldest open case with money disputed, "
                             "else the oldest open one)")

    command("promises", "open promises of every customer, due first, overdue ones marked in words")

    login = command("login", "store your backend token in the system keyring ($AGENTDESK_TOKEN overrides it); "
                             "the token is read from stdin")
    login.add_argument("--user", required=True, metavar="NAME", help="your user name on the backend")
    login.add_argument("--plaintext-keyring", action="store_true",
                       help="store the token even where the keyring keeps it unencrypted in a file (e.g. "
                            "keyrings.alt's PlaintextKeyring); without it such a login stores nothing")
    command("sync", "one push and pull with the backend, then exit (0 only when nothing is left to push)")

    browser = command("web", "the workstation in a browser (textual-serve): each tab runs agentdesk with these "
                             "options and your login; listens on 127.0.0.1 unless told otherwise")
    browser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    browser.add_argument("--port", type=int, default=8480, help="port to listen on (default 8480; 0: any free port)")
    browser.add_argument("--public-url", default=None, metavar="URL",
                         help="the address browsers use, when a reverse proxy stands in front (e.g. "
                              "https://desk.example.com)")

    serve = command("serve", "run the backend (default database: a SQLite file in the user data directory)")
    _add_database(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8470, help="port to listen on (default 8470; 0: any free port)")
    serve.add_argument("--keep-changes", type=int, default=None, metavar="N",
                       help="keep only the newest N changes in the change log (default: all); "
                            "clients further behind fetch a snapshot")
    serve.add_argument("--offline-allowance", type=int, default=7, metavar="DAYS",
                       help="take a decision up to DAYS days after it was taken, e.g. offline (default 7)")
    serve.add_argument("--channels", default=None, metavar="FILE",
                       help="the channels file (TOML): e-mail, SMS, calls and webhooks in; secrets by env var name")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="backend processes sharing the port (default 1); more than one wants PostgreSQL")
    users = command("users", "manage the backend's users and their tokens")
    users_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    def users_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = users_commands.add_parser(name, help=help_text, description=help_text)
        _add_shared_options(sub, top_level=False)
        _add_database(sub)
        return sub

    add_user = users_command("add", "create a backend user and print its token once (NAME is also the agent id); "
                                    "an existing user gets the role and a new token, the old one stops working")
    add_user.add_argument("name", metavar="NAME")
    add_user.add_argument("--role", required=True,
                          help="a role of the authority matrix (e.g. agent, lead, supervisor) or admin")
    _add_expires_in(add_user)
    rotate = users_command("rotate", "print a new token for user NAME once; the old token stops working at once")
    rotate.add_argument("name", metavar="NAME")
    _add_expires_in(rotate)
    remove = users_command("remove", "user NAME can no longer sign in (at once); their agent record and "
                                     "history stay")
    remove.add_argument("name", metavar="NAME")
    users_command("list", "the backend's users: name, role, when the token expires (never the tokens)")

    channels = command("channels", "the backend's channels (e-mail, SMS and calls, webhooks)")
    channels_commands = channels.add_subparsers(dest="channels_command", metavar="ACTION", required=True)
    check = channels_commands.add_parser(
        "check", help="connect to each configured channel once and say in one line each whether it works",
        description="connect to each configured channel once and say in one line each whether it works, and why "
                    "not (exit 1 if any failed); secrets are read from their variables and never printed")
    _add_shared_options(check, top_level=False)
    check.add_argument("--channels", required=True, metavar="FILE", help="the channels file (TOML)")
    return parser


def expiry_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    problem = expiry_days_problem(days)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return days


def _add_expires_in(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expires-in", type=expiry_days, default=DEFAULT_EXPIRY_DAYS, metavar="DAYS",
                        help=f"the token stops working after DAYS days (default {DEFAULT_EXPIRY_DAYS})")


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=None, metavar="URL",
                        help="the backend's database: a file path, sqlite:///PATH or postgresql://USER@HOST/NAME "
                             "(default: $AGENTDESK_DATABASE, else server.db in the user data directory)")
