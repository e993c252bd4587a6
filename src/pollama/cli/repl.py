"""The interactive chat of ``pollama run`` (Ollama's ``generateInteractive``): the ``>>> `` prompt, ``\"\"\"``
multi-line input, the slash commands, and history in ``~/.ollama/history`` shared with Ollama's.

Line editing and history are in ``lineinput.py``. Ctrl+C at the prompt clears the line, Ctrl+C during a reply
cancels it, Ctrl+D or ``/bye`` leaves.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from pollama.cli import attachments, models
from pollama.cli.client import APIError, Client, CLIError
from pollama.cli.display import WordWrap, terminal_width
from pollama.cli.lineinput import Interrupted, LineReader
from pollama.cli.run import RunOptions, apply_show, chat, load
from pollama.cli.usage import USAGE, USAGE_FILES, USAGE_PARAMETERS, USAGE_SET, USAGE_SHORTCUTS, USAGE_SHOW
from pollama.config import parse_bool
from pollama.modelfile.request import CreateRequestError, format_param
from pollama.store.names import Name

NONE, PROMPT, SYSTEM = range(3)


def _go_v(value: Any) -> str:
    """``%v`` of an option value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    return str(value)


class Repl:
    def __init__(self, client: Client, opts: RunOptions, think_explicit: bool) -> None:
        self.client = client
        self.opts = opts
        self.think_explicit = think_explicit
        self.reader: LineReader | None = None
        self.save_history = not parse_bool(os.environ.get("OLLAMA_NOHISTORY", "").strip())
        self.buffer = ""
        self.multiline = NONE

    def run(self) -> None:
        self.reader = LineReader(self.save_history)
        while True:
            try:
                line = self.reader.read(alt=self.multiline != NONE or bool(self.buffer))
            except EOFError:
                print()
                return
            except Interrupted as interrupt:
                if not interrupt.text:
                    print("\nUse Ctrl + d or /bye to exit.")
                self.buffer, self.multiline = "", NONE
                continue
            try:
                if self.handle(line) is False:
                    return
            except KeyboardInterrupt:
                # Ctrl+C outside the streamed reply (loading, saving): back to the prompt.
                print()

    def handle(self, line: str) -> bool:
        """One line of input; False ends the session."""
        if self.multiline != NONE:
            done = line.endswith('"""')
            self.buffer += line.removesuffix('"""')
            if not done:
                self.buffer += "\n"
                return True
            if self.multiline == SYSTEM:
                self._set_system(self.buffer)
                self.buffer = ""
            self.multiline = NONE
        elif line.startswith('"""'):
            rest = line.removeprefix('"""')
            self.buffer += rest.removesuffix('"""')
            if not rest.endswith('"""'):
                self.buffer += "\n"
                self.multiline = PROMPT
        elif line.startswith("/") and not self._names_a_file(line):
            return self.command(line)
        else:
            self.buffer += line
        if self.buffer and self.multiline == NONE:
            message: dict[str, Any] = {"role": "user", "content": self.buffer}
            self.buffer = ""
            if self.opts.multimodal:
                message["content"], images = attachments.extract(message["content"])
                if images:
                    message["images"] = images
            self.opts.messages.append(message)
            self._reply()
        return True

    def _names_a_file(self, line: str) -> bool:
        """A line starting with an image path is a prompt for a model that sees, not a command."""
        first = line.split()[0]
        return self.opts.multimodal and any(name.startswith(first) for name in attachments.file_names(line))

    def _reply(self) -> None:
        try:
            message = chat(self.client, self.opts)
        except APIError as err:
            if "does not support thinking" in str(err) or "invalid think value" in str(err):
                print(f"error: {err}")
                return
            raise
        if message is not None:
            self.opts.messages.append(message)

    def command(self, line: str) -> bool:
        args = line.split()
        name = args[0]
        if line.startswith("/list"):
            print(models.list_models(self.client, args[1] if len(args) > 1 else None), end="")
        elif line.startswith("/load"):
            self._load(args)
        elif line.startswith("/save"):
            self._save(args)
        elif line.startswith("/clear"):
            self.opts.messages = [{"role": "system", "content": self.opts.system}] if self.opts.system else []
            print("Cleared session context")
        elif line.startswith("/set"):
            self._set(args, line)
        elif line.startswith("/show"):
            self._show(args)
        elif line.startswith(("/help", "/?")):
            topic = args[1] if len(args) > 1 else ""
            text = {"set": USAGE_SET, "/set": USAGE_SET, "show": USAGE_SHOW, "/show": USAGE_SHOW}.get(topic)
            if topic in ("shortcut", "shortcuts"):
                text = USAGE_SHORTCUTS
            if text is None and not topic:
                text = USAGE + (USAGE_FILES if self.opts.multimodal else "") + "\n"
            sys.stderr.write(text or "")
        elif line.startswith(("/exit", "/bye")):
            return False
        else:
            print(f"Unknown command '{name}'. Type /? for help")
        return True

    def _load(self, args: list[str]) -> None:
        if len(args) != 2:
            print("Usage:\n  /load <modelname>")
            return
        previous = (self.opts.model, self.opts.messages, self.opts.loaded_messages, self.opts.parent_model)
        self.opts.model, self.opts.messages, self.opts.loaded_messages = args[1], [], []
        print(f"Loading model '{args[1]}'")
        try:
            info = self.client.show(args[1])
            apply_show(self.opts, info, self.think_explicit)
            load(self.client, self.opts)
        except APIError as err:
            if "not found" in str(err):
                print(f"Couldn't find model '{args[1]}'")
                self.opts.model, self.opts.messages, self.opts.loaded_messages, self.opts.parent_model = previous
                return
            if "does not support thinking" in str(err):
                print(f"error: {err}")
                return
            raise

    def _save(self, args: list[str]) -> None:
        if len(args) != 2:
            print("Usage:\n  /save <modelname>")
            return
        parent = self.opts.parent_model
        if not Name.parse(parent).is_valid():
            parent = ""
        req: dict[str, Any] = {"model": args[1], "from": parent or self.opts.model}
        if self.opts.system:
            req["system"] = self.opts.system
        if self.opts.options:
            req["parameters"] = self.opts.options
        if messages := self.opts.loaded_messages + self.opts.messages:
            req["messages"] = messages
        try:
            for _ in self.client.stream("/api/create", req):
                pass
        except APIError as err:
            if "invalid model name" in str(err):
                print(f"error: The model name '{args[1]}' is invalid")
                return
            raise
        print(f"Created new model '{args[1]}'")

    def _set_system(self, text: str) -> None:
        self.opts.system = text
        message = {"role": "system", "content": text}
        if self.opts.messages and self.opts.messages[-1]["role"] == "system":
            self.opts.messages[-1] = message
        else:
            self.opts.messages.append(message)
        print("Set system message.")

    def _set(self, args: list[str], line: str) -> None:
        if len(args) < 2:
            sys.stderr.write(USAGE_SET)
            return
        what = args[1]
        simple = {
            "wordwrap": ("word_wrap", True, "Set 'wordwrap' mode."),
            "nowordwrap": ("word_wrap", False, "Set 'nowordwrap' mode."),
            "verbose": ("verbose", True, "Set 'verbose' mode."),
            "quiet": ("verbose", False, "Set 'quiet' mode."),
        }
        if what in ("history", "nohistory"):
            self.save_history = what == "history"
            if self.reader is not None:
                self.reader.history.save = self.save_history
        elif what in simple:
            attr, value, message = simple[what]
            setattr(self.opts, attr, value)
            print(message)
        elif what in ("think", "nothink"):
            self._set_think(what, args[2] if len(args) > 2 else "")
        elif what == "format":
            if len(args) < 3 or args[2] != "json":
                print("Invalid or missing format. For 'json' mode use '/set format json'")
            else:
                self.opts.format = "json"
                print("Set format to 'json' mode.")
        elif what == "noformat":
            self.opts.format = ""
            print("Disabled format.")
        elif what == "parameter":
            self._set_parameter(args)
        elif what == "system":
            self._set_system_command(args)
        else:
            print(f"Unknown command '/set {what}'. Type /? for help")

    def _set_think(self, what: str, level: str) -> None:
        self.opts.think = (level or True) if what == "think" else False
        self.think_explicit = True
        with contextlib.suppress(CLIError):
            if "thinking" not in (self.client.show(self.opts.model).get("capabilities") or []):
                sys.stderr.write(f'warning: model "{self.opts.model}" does not support thinking output\n')
        if what == "nothink":
            print("Set 'nothink' mode.")
        elif level:
            print(f"Set 'think' mode to '{level}'.")
        else:
            print("Set 'think' mode.")

    def _set_parameter(self, args: list[str]) -> None:
        if len(args) < 4:
            sys.stderr.write(USAGE_PARAMETERS)
            return
        key, values = args[2], args[3:]
        try:
            value = format_param(key, values)
        except CreateRequestError as err:
            print(f"Couldn't set parameter: {json.dumps(str(err))}")
            return
        print(f"Set parameter '{key}' to '{', '.join(values)}'")
        self.opts.options[key] = value

    def _set_system_command(self, args: list[str]) -> None:
        if len(args) < 3:
            sys.stderr.write(USAGE_SET)
            return
        text = " ".join(args[2:])
        if text.startswith('"""'):
            text = text.removeprefix('"""')
            if text.endswith('"""'):
                text = text.removesuffix('"""')
            else:
                # Ollama joins this first line to the next without a newline; keep the line break.
                self.multiline = SYSTEM
                self.buffer = text + "\n"
                return
        self._set_system(text)

    def _show(self, args: list[str]) -> None:
        if len(args) < 2:
            sys.stderr.write(USAGE_SHOW)
            return
        extra: dict[str, Any] = {}
        if self.opts.system:
            extra["system"] = self.opts.system
        if self.opts.options:
            extra["options"] = self.opts.options
        try:
            resp = self.client.show(self.opts.model, **extra)
        except CLIError:
            print("error: couldn't get model")
            raise
        what = args[1]
        if what == "info":
            sys.stderr.write(models.show_info(resp))
        elif what == "license":
            print(resp.get("license") or "No license was specified for this model.")
        elif what == "modelfile":
            print(resp.get("modelfile", ""))
        elif what == "parameters":
            print("Model defined parameters:")
            if not resp.get("parameters"):
                print("  No additional parameters were specified for this model.")
            else:
                for line in str(resp["parameters"]).split("\n"):
                    print(f"  {line}")
            print()
            if self.opts.options:
                print("User defined parameters:")
                for k, v in self.opts.options.items():
                    print(f"  {k:<30} {_go_v(v)}")
                print()
        elif what == "system":
            text = self.opts.system or resp.get("system")
            print(f"{text}\n" if text else "No system message was specified for this model.")
        elif what == "template":
            print(resp.get("template") or "No prompt template was specified for this model.")
        else:
            print(f"Unknown command '/show {what}'. Type /? for help")


def interactive(client: Client, opts: RunOptions, info: dict[str, Any], think_explicit: bool) -> None:
    """Load the model, echo the Modelfile's MESSAGEs, then read prompts until /bye or Ctrl+D."""
    load(client, opts)
    for msg in info.get("messages") or []:
        if msg.get("role") == "user":
            print(f">>> {msg.get('content', '')}")
        elif msg.get("role") == "assistant":
            WordWrap(opts.word_wrap, terminal_width()).write(str(msg.get("content", "")))
            print("\n")
    Repl(client, opts, think_explicit).run()
