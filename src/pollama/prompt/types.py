"""The data a chat template sees, mirroring Ollama's `api.Message`/`api.Tool` and template/template.go's views.

Python code builds these with snake_case constructors (`Message(role="user", content="hi")`,
`Tool.from_json(d)`); templates see Go field names (`.Role`, `.ToolCalls`, `.Function.Arguments`) through
`__go_fields__`. Printing follows Ollama's template views: `.Tools` and each tool print as JSON (description
always present, top-level properties sorted), tool-call `.Function.Arguments` and `.Parameters.Properties`
print as sorted-key JSON (`{}` when empty), `PropertyType` prints as its single type or `[a b]`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .gotemplate.values import json_marshal


class PropertyType(list[str]):
    """A JSON-schema `type`: one name or several (Go's api.PropertyType)."""

    def __str__(self) -> str:
        if not self:
            return ""
        if len(self) == 1:
            return self[0]
        return "[" + " ".join(self) + "]"

    def __go_json__(self) -> object:
        return self[0] if len(self) == 1 else list(self)

    @classmethod
    def from_json(cls, v: object) -> PropertyType:
        if v is None:
            return cls()
        if isinstance(v, str):
            return cls([v])
        return cls(str(x) for x in v)  # type: ignore[attr-defined]


class JSONMap(dict[str, Any]):
    """A Go map with a JSON String() (templateArgs / templateProperties): sorted keys, `{}` when empty."""

    def __str__(self) -> str:
        return json_marshal(dict(self)) if self else "{}"


_TS_TYPES = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "array": "any[]",
    "object": "Record<string, any>",
    "null": "null",
}


@dataclass(eq=False)
class ToolProperty:
    type: PropertyType = field(default_factory=PropertyType)
    description: str = ""
    items: Any = None
    enum: list[Any] | None = None
    properties: dict[str, ToolProperty] | None = None
    required: list[str] | None = None
    any_of: list[ToolProperty] | None = None

    __go_type__: ClassVar[str] = "api.ToolProperty"
    __go_fields__: ClassVar[dict[str, str]] = {
        "AnyOf": "any_of",
        "Type": "type",
        "Items": "items",
        "Description": "description",
        "Enum": "enum",
        "Properties": "properties",
        "Required": "required",
    }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ToolProperty:
        props = d.get("properties")
        return cls(
            type=PropertyType.from_json(d.get("type")),
            description=str(d.get("description") or ""),
            items=d.get("items"),
            enum=d.get("enum"),
            properties=None if props is None else {k: cls.from_json(v) for k, v in props.items()},
            required=d.get("required"),
            any_of=None if d.get("anyOf") is None else [cls.from_json(x) for x in d["anyOf"]],
        )

    def __go_json__(self) -> object:
        out: OrderedDict[str, object] = OrderedDict()
        if self.any_of:
            out["anyOf"] = self.any_of
        if self.type:
            out["type"] = self.type
        if self.items is not None:
            out["items"] = self.items
        if self.description:
            out["description"] = self.description
        if self.enum:
            out["enum"] = self.enum
        if self.properties is not None:
            # api.ToolPropertiesMap is an ordered map: nested properties keep request order.
            out["properties"] = OrderedDict(self.properties)
        if self.required:
            out["required"] = self.required
        return out

    def to_typescript_type(self) -> str:
        if self.any_of:
            return " | ".join(p.to_typescript_type() for p in self.any_of)
        if not self.type:
            return "any"
        return " | ".join(_TS_TYPES.get(t, "any") for t in self.type)


@dataclass(eq=False)
class ToolFunctionParameters:
    type: str = "object"
    properties: dict[str, ToolProperty] | None = None
    required: list[str] | None = None
    defs: Any = None
    items: Any = None

    __go_type__: ClassVar[str] = "template.templateToolFunctionParameters"
    __go_fields__: ClassVar[dict[str, str]] = {
        "Type": "type",
        "Defs": "defs",
        "Items": "items",
        "Required": "required",
        "Properties": "template_properties",
    }

    @property
    def template_properties(self) -> JSONMap:
        return JSONMap(self.properties or {})

    def __go_json__(self) -> object:
        out: OrderedDict[str, object] = OrderedDict(type=self.type)
        if self.defs is not None:
            out["$defs"] = self.defs
        if self.items is not None:
            out["items"] = self.items
        if self.required:
            out["required"] = self.required
        # templateProperties is a plain Go map: sorted keys, null when absent.
        out["properties"] = None if self.properties is None else dict(self.properties)
        return out


@dataclass(eq=False)
class ToolFunction:
    name: str = ""
    description: str = ""
    parameters: ToolFunctionParameters = field(default_factory=ToolFunctionParameters)

    __go_type__: ClassVar[str] = "template.templateToolFunction"
    __go_fields__: ClassVar[dict[str, str]] = {"Name": "name", "Description": "description", "Parameters": "parameters"}

    def __go_json__(self) -> object:
        return OrderedDict(name=self.name, description=self.description, parameters=self.parameters)

    def __str__(self) -> str:
        # Ollama's template view of a function has no String method, so `{{ .Function }}` prints Go's struct
        # dump (`{get_weather  {object <nil> <nil> [city] {...}}}`). Templates that print it (Qwen 2.5's library
        # template: `{"type": "function", "function": {{ .Function }}}`) mean JSON, as api.ToolFunction
        # prints, and models given the dump call tools with their schemas as arguments.
        return json_marshal(self)


@dataclass(eq=False)
class Tool:
    function: ToolFunction = field(default_factory=ToolFunction)
    type: str = "function"
    items: Any = None

    __go_type__: ClassVar[str] = "template.templateTool"
    __go_fields__: ClassVar[dict[str, str]] = {"Type": "type", "Items": "items", "Function": "function"}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Tool:
        """Build from the request JSON shape `{"type":..., "function": {"name", "description", "parameters"}}`."""
        fn = d.get("function") or {}
        params = fn.get("parameters") or {}
        props = params.get("properties")
        return cls(
            type=str(d.get("type") or ""),
            items=d.get("items"),
            function=ToolFunction(
                name=str(fn.get("name") or ""),
                description=str(fn.get("description") or ""),
                parameters=ToolFunctionParameters(
                    type=str(params.get("type") or ""),
                    properties=None if props is None else {k: ToolProperty.from_json(v) for k, v in props.items()},
                    required=params.get("required"),
                    defs=params.get("$defs"),
                    items=params.get("items"),
                ),
            ),
        )

    def __go_json__(self) -> object:
        out: OrderedDict[str, object] = OrderedDict(type=self.type)
        if self.items is not None:
            out["items"] = self.items
        out["function"] = self.function
        return out

    def __str__(self) -> str:
        return json_marshal(self)


class ToolList(list[Tool]):
    """`.Tools` in a template: prints as the JSON array (`null` when the request had no tools at all)."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        super().__init__(tools or [])
        self.is_nil = tools is None

    def __str__(self) -> str:
        return "null" if self.is_nil else json_marshal(list(self))

    def __go_json__(self) -> object:
        return None if self.is_nil else list(self)


@dataclass(eq=False)
class ToolCallFunction:
    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    index: int = 0

    __go_type__: ClassVar[str] = "template.templateToolCallFunction"
    __go_fields__: ClassVar[dict[str, str]] = {"Index": "index", "Name": "name", "Arguments": "template_arguments"}

    @property
    def template_arguments(self) -> JSONMap:
        return JSONMap(self.arguments)


@dataclass(eq=False)
class ToolCall:
    function: ToolCallFunction = field(default_factory=ToolCallFunction)
    id: str = ""

    __go_type__: ClassVar[str] = "template.templateToolCall"
    __go_fields__: ClassVar[dict[str, str]] = {"ID": "id", "Function": "function"}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ToolCall:
        fn = d.get("function") or {}
        return cls(
            id=str(d.get("id") or ""),
            function=ToolCallFunction(
                name=str(fn.get("name") or ""),
                arguments=dict(fn.get("arguments") or {}),
                index=int(fn.get("index") or 0),
            ),
        )


@dataclass(eq=False)
class Message:
    role: str
    content: str = ""
    thinking: str = ""
    images: list[bytes] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_name: str = ""
    tool_call_id: str = ""

    __go_type__: ClassVar[str] = "*template.templateMessage"
    __go_fields__: ClassVar[dict[str, str]] = {
        "Role": "role",
        "Content": "content",
        "Thinking": "thinking",
        "Images": "images",
        "ToolCalls": "tool_calls",
        "ToolName": "tool_name",
        "ToolCallID": "tool_call_id",
    }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Message:
        """From the API JSON shape; roles are lower-cased as Ollama's UnmarshalJSON does."""
        return cls(
            role=str(d.get("role") or "").lower(),
            content=str(d.get("content") or ""),
            thinking=str(d.get("thinking") or ""),
            images=list(d.get("images") or []),
            tool_calls=[ToolCall.from_json(tc) for tc in d.get("tool_calls") or []],
            tool_name=str(d.get("tool_name") or ""),
            tool_call_id=str(d.get("tool_call_id") or ""),
        )

    def copy(self) -> Message:
        return Message(
            self.role, self.content, self.thinking, list(self.images), list(self.tool_calls), self.tool_name,
            self.tool_call_id,
        )  # fmt: skip

    def __go_json__(self) -> object:
        # templateMessage has no json tags; nil slices marshal as null.
        return OrderedDict(
            Role=self.role,
            Content=self.content,
            Thinking=self.thinking,
            Images=self.images or None,
            ToolCalls=self.tool_calls or None,
            ToolName=self.tool_name,
            ToolCallID=self.tool_call_id,
        )
