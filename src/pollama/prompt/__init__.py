"""Prompt construction: a Go text/template interpreter, Ollama's Template wrapper, Hugging Face Jinja chat
templates from a GGUF (sandboxed), and prompt building.

This package sits low in the import order: it depends on the standard library, jinja2, and `store` (to read a
GGUF's chat template). Entry points: `Template.parse(text)` / `Template.execute(Values)`,
`jinja_template_from_gguf(path)`, `chat_prompt(...)`, `generate_prompt(...)`, `named_template(name)`, and the
template data types (`Message`, `Tool`, `ToolCall`).
"""

from __future__ import annotations

from .build import chat_prompt, chat_prompt_with_images, generate_messages, generate_prompt, tag_images
from .gotemplate import TemplateError
from .named import NamedTemplate, match_chat_template, named_template, template_names
from .template import Template, Values, collate, default_template
from .types import (
    Message,
    PropertyType,
    Tool,
    ToolCall,
    ToolCallFunction,
    ToolFunction,
    ToolFunctionParameters,
    ToolList,
    ToolProperty,
)

__all__ = [
    "Message",
    "NamedTemplate",
    "PropertyType",
    "Template",
    "TemplateError",
    "Tool",
    "ToolCall",
    "ToolCallFunction",
    "ToolFunction",
    "ToolFunctionParameters",
    "ToolList",
    "ToolProperty",
    "Values",
    "chat_prompt",
    "chat_prompt_with_images",
    "collate",
    "default_template",
    "generate_messages",
    "generate_prompt",
    "match_chat_template",
    "named_template",
    "tag_images",
    "template_names",
]
