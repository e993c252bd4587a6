"""GBNF for the string ``format`` values the compiler enforces, as the contents between the quotes.

Each grammar writes only valid values (a strict subset where the format is loose): calendar dates with the
right number of days (29 February only in leap years), RFC 3339 times with an offset, lowercase or uppercase
hex UUIDs, dot-atom e-mail addresses, host names, dotted-quad IPv4 and absolute URIs of unreserved characters.
"""

from __future__ import annotations

from pollama.grammar.gbnf import Rules, rename_rule
from pollama.grammar.numeric import integer_range

__all__ = ["FORMATS", "format_rule"]

_MULTIPLE_OF_4 = '("0" [48] | [2468] [048] | [13579] [26])'

_DEFINITIONS: dict[str, dict[str, str]] = {
    "date": {
        # year 0000 does not exist for Python's datetime (what jsonschema checks with)
        "year": '"000" [1-9] | "00" [1-9] [0-9] | "0" [1-9] [0-9]{2} | [1-9] [0-9]{3}',
        "leap-year": f'[0-9] [0-9] {_MULTIPLE_OF_4} | {_MULTIPLE_OF_4} "00"',
        "date": (
            'year "-" ( ("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])'
            ' | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30")'
            ' | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) )'
            ' | leap-year "-02-29"'
        ),
    },
    "time": {
        "time": (
            '([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,9})?'
            ' ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])'
        ),
    },
    "uuid": {
        "uuid": '[0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}',
    },
    "hostname": {
        "hostname-label": "[a-zA-Z0-9] ([a-zA-Z0-9-]{0,61} [a-zA-Z0-9])?",
        "hostname": 'hostname-label ("." hostname-label){0,8}',
    },
    "email": {
        "email-atom": "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,32}",
        "email": 'email-atom ("." email-atom){0,3} "@" hostname-label ("." hostname-label){1,8}',
    },
    "uri": {
        "uri-pct": '"%" [0-9a-fA-F] [0-9a-fA-F]',
        "uri-pchar": "[a-zA-Z0-9._~!$&'()*+,;=:@-] | uri-pct",
        "uri": (
            '[a-zA-Z] [a-zA-Z0-9+.-]{0,15} "://" ([a-zA-Z0-9._~!$&\'()*+,;=-] | uri-pct){1,253}'
            ' (":" [0-9]{1,5})? ("/" uri-pchar{0,64}){0,16}'
            ' ("?" (uri-pchar | [/?]){0,256})? ("#" (uri-pchar | [/?]){0,256})?'
        ),
    },
}
_DEPENDS = {"email": ("hostname",), "date-time": ("date", "time")}


def _ipv4() -> dict[str, str]:
    return {"ipv4-octet": integer_range(0, 255), "ipv4": 'ipv4-octet "." ipv4-octet "." ipv4-octet "." ipv4-octet'}


FORMATS = frozenset([*_DEFINITIONS, "date-time", "ipv4"])


_NAMES = [n for d in (*_DEFINITIONS.values(), _ipv4()) for n in d] + ["date-time"]


def _prefixed(body: str) -> str:
    # format rules live under "fmt-" so that no schema-derived rule name can collide with them
    for name in _NAMES:
        body = rename_rule(body, name, "fmt-" + name)
    return body


def format_rule(rules: Rules, fmt: str) -> str:
    """The rule name for the contents of a string in format ``fmt`` (one of ``FORMATS``), defined in ``rules``."""
    for dep in _DEPENDS.get(fmt, ()):
        format_rule(rules, dep)
    if fmt == "date-time":
        definitions = {"date-time": 'date "T" time'}
    elif fmt == "ipv4":
        definitions = _ipv4()
    else:
        definitions = _DEFINITIONS[fmt]
    for name, body in definitions.items():
        if "fmt-" + name not in rules:
            rules.define("fmt-" + name, _prefixed(body))
    return "fmt-" + fmt
