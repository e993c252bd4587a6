"""Request decoding with Go's error texts, response encoding with Go's escaping."""

from __future__ import annotations

import pytest

from pollama.api.jsonio import decode
from pollama.api.responses import created_at
from pollama.api.types import GO_TYPES_CHAT, ChatRequest, GenerateRequest
from pollama.errors import BadRequest
from pollama.gojson import marshal


def _err(
    body: bytes, model: type = GenerateRequest, name: str = "GenerateRequest", types: dict[str, str] | None = None
) -> str:
    with pytest.raises(BadRequest) as info:
        decode(body, model, name, types)
    return info.value.message


def test_empty_and_null_bodies() -> None:
    assert _err(b"") == "missing request body"
    assert _err(b"  \n") == "missing request body"
    assert decode(b"null", GenerateRequest, "GenerateRequest").model is None
    assert decode(b"{}", GenerateRequest, "GenerateRequest").prompt is None


def test_syntax_errors() -> None:
    assert _err(b"{") == "unexpected EOF"
    assert _err(b'{"model": }') == "invalid character '}' looking for beginning of value"
    assert _err(b"{x}") == "invalid character 'x' looking for beginning of object key string"
    assert _err(b'{"a" 1}') == "invalid character '1' after object key"
    assert _err(b'{"a": 1 "b": 2}') == "invalid character '\"' after object key:value pair"
    assert _err(b'{"a": 1} x') == "invalid character 'x' after top-level value"


def test_type_errors() -> None:
    assert _err(b'{"model": 1}') == (
        "json: cannot unmarshal number into Go struct field GenerateRequest.model of type string"
    )
    assert _err(b'{"stream": "yes"}') == (
        "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool"
    )
    assert _err(b'{"messages": {}}', ChatRequest, "ChatRequest", GO_TYPES_CHAT) == (
        "json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message"
    )
    assert _err(b"[1]") == "json: cannot unmarshal array into Go value of type api.GenerateRequest"


def test_roles_are_lowercased_and_unknown_fields_ignored() -> None:
    req = decode(b'{"messages":[{"role":"USER","content":"x"}],"extra":1}', ChatRequest, "ChatRequest")
    assert req.messages is not None and req.messages[0].role == "user"


def test_responses_escape_like_go() -> None:
    assert marshal({"a": "<b>&", "c": "é"}) == '{"a":"\\u003cb\\u003e\\u0026","c":"é"}'


def test_created_at_format() -> None:
    from datetime import UTC, datetime

    assert created_at(datetime(2025, 10, 17, 23, 14, 7, 414670, tzinfo=UTC)) == "2025-10-17T23:14:07.41467Z"
    assert created_at(datetime(2025, 10, 17, 23, 14, 7, tzinfo=UTC)) == "2025-10-17T23:14:07Z"
