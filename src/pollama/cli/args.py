"""Command-line parsing with the rules and messages of Ollama's cobra/pflag front end.

Flags and arguments may be interleaved, ``--`` ends the flags, ``--flag=value`` and ``-f value`` both work, a bool
flag takes no value unless written ``--flag=false``, and ``--think`` alone means ``--think=true``. Mistakes raise
``UsageError`` with cobra's wording (``unknown flag: --x``, ``accepts 1 arg(s), received 0``); ``--help`` prints
cobra's help layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENV_HOST = ("OLLAMA_HOST", "IP Address for the ollama server (default 127.0.0.1:11434)")


class UsageError(Exception):
    """A bad command line; printed as ``Error: <message>``, exit status 1."""


@dataclass(frozen=True)
class Flag:
    name: str
    help: str
    kind: str = "bool"  # bool, string or int
    short: str = ""
    default: Any = None
    no_opt: str | None = None  # pflag's NoOptDefVal: the value of the bare flag


@dataclass(frozen=True)
class Command:
    name: str
    use: str
    short: str
    min_args: int = 0
    max_args: int | None = None  # None: any number
    flags: tuple[Flag, ...] = ()
    aliases: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = (ENV_HOST,)


@dataclass
class Parsed:
    command: Command
    args: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    help: bool = False

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def _convert(flag: Flag, value: str) -> Any:
    if flag.kind == "bool":
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise UsageError(
            f'invalid argument "{value}" for "{_display(flag)}" flag: strconv.ParseBool: parsing "{value}": '
            "invalid syntax"
        )
    if flag.kind == "int":
        try:
            return int(value, 0)
        except ValueError:
            raise UsageError(
                f'invalid argument "{value}" for "{_display(flag)}" flag: strconv.ParseInt: parsing "{value}": '
                "invalid syntax"
            ) from None
    return value


def _display(flag: Flag) -> str:
    return f"-{flag.short}, --{flag.name}" if flag.short else f"--{flag.name}"


def parse(command: Command, argv: list[str]) -> Parsed:
    """Parse the words after the command name."""
    by_name = {f.name: f for f in command.flags}
    by_short = {f.short: f for f in command.flags if f.short}
    out = Parsed(command, values={f.name: f.default for f in command.flags})
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--":
            out.args += argv[i:]
            break
        if word in ("-h", "--help"):
            out.help = True
            continue
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            flag = by_name.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
        elif word.startswith("-") and len(word) > 1:
            short, value = word[1], word[2:]
            eq = ""
            if value.startswith("="):
                eq, value = "=", value[1:]
            elif value:
                eq = "="  # -fModelfile
            found = by_short.get(short)
            if found is None:
                raise UsageError(f"unknown shorthand flag: '{short}' in {word}")
            flag = found
        else:
            out.args.append(word)
            continue
        if not eq:
            if flag.kind == "bool":
                value = "true"
            elif flag.no_opt is not None:
                value = flag.no_opt
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                raise UsageError(f"flag needs an argument: {'--' + flag.name if word.startswith('--') else word}")
        out.values[flag.name] = _convert(flag, value)
        out.changed.add(flag.name)
    if not out.help:
        _check_args(command, len(out.args))
    return out


def _check_args(command: Command, n: int) -> None:
    lo, hi = command.min_args, command.max_args
    if hi is not None and lo == hi and n != lo:
        raise UsageError(f"accepts {lo} arg(s), received {n}")
    if n < lo:
        raise UsageError(f"requires at least {lo} arg(s), only received {n}")
    if hi is not None and n > hi:
        raise UsageError(f"accepts between {lo} and {hi} arg(s), received {n}")


def _flag_lines(flags: list[Flag], command_name: str) -> list[str]:
    rows = []
    for f in sorted([*flags, Flag("help", f"help for {command_name}", short="h")], key=lambda f: f.name):
        left = (f"-{f.short}, " if f.short else "    ") + f"--{f.name}"
        if f.kind != "bool":
            left += f" {f.kind}"
            if f.no_opt is not None:
                left += f'[="{f.no_opt}"]'
        rows.append((left, f.help))
    width = max(len(left) for left, _ in rows)
    return [f"  {left.ljust(width)}   {text}" for left, text in rows]


def command_help(prog: str, command: Command) -> str:
    lines = [command.short, "", "Usage:", f"  {prog} {command.use} [flags]", ""]
    if command.aliases:
        lines += ["Aliases:", f"  {', '.join((command.name, *command.aliases))}", ""]
    lines += ["Flags:", *_flag_lines(list(command.flags), command.name)]
    if command.env:
        lines += ["", "Environment Variables:"]
        lines += [f"      {name:<27}   {text}" for name, text in command.env]
    return "\n".join(lines) + "\n"


def root_help(prog: str, short: str, commands: list[Command], flags: list[Flag]) -> str:
    width = max(len(c.name) for c in commands)
    lines = [short, "", "Usage:", f"  {prog} [flags]", f"  {prog} [command]", "", "Available Commands:"]
    lines += [f"  {c.name.ljust(max(width, 11))} {c.short}" for c in commands]
    lines += ["", "Flags:", *_flag_lines(flags, prog), ""]
    lines.append(f'Use "{prog} [command] --help" for more information about a command.')
    return "\n".join(lines) + "\n"
