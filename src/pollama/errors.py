"""Domain errors: what went wrong, in the words Ollama uses, and nothing about HTTP.

Use-cases, the scheduler, the runner client, the registry client and create raise these; each API's edge
(``server/errors.py`` for the native API, and the ``/v1`` layers) decides the status and the body shape.

```
PollamaError
├── BadRequest            the request cannot be served as asked (Ollama's 400s)
│   ├── Unsupported       the model lacks a capability the request needs
│   └── PromptTooLong     the prompt does not fit the context and shifting is off
├── NotFound              a model, blob or file the request names does not exist
│   └── ModelNotFound
├── Unauthorized          a missing or wrong API key (or a registry's refusal)
├── ServerBusy            the request queue is full
├── TooLarge              the request body is over the server's size limit (OLLAMA_MAX_BODY)
└── Failed                the server tried and failed (Ollama's 500s)
    ├── InvalidOption     an option of the wrong type (Ollama answers these with 500)
    ├── RunnerStopped     the runner process died
    ├── RunnerLoadFailed  the runner could not load the model
    └── RegistryFailed    a registry answered with an error or could not be reached
```
"""

from __future__ import annotations

__all__ = [
    "SERVER_BUSY",
    "BadRequest",
    "Failed",
    "InvalidOption",
    "ModelNotFound",
    "NotFound",
    "PollamaError",
    "PromptTooLong",
    "RegistryFailed",
    "RunnerLoadFailed",
    "RunnerStopped",
    "ServerBusy",
    "TooLarge",
    "Unauthorized",
    "Unsupported",
]

SERVER_BUSY = "server busy, please try again.  maximum pending requests exceeded"
RUNNER_STOPPED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, "
    "check ollama server logs for details"
)
PROMPT_TOO_LONG = (
    "the prompt is longer than the context length currently available to the model; shorten the prompt, "
    "adjust the context length in settings, or use a model with a longer context length"
)


class PollamaError(Exception):
    """Base of every domain error; ``message`` is the text a client sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(PollamaError):
    """The request is malformed or asks for something this server cannot do with it."""


class Unsupported(BadRequest):
    """The model lacks a capability (tools, thinking, insert, ...) the request needs."""


class PromptTooLong(BadRequest):
    """The prompt is longer than the context and the request does not allow shifting."""

    def __init__(self, message: str = PROMPT_TOO_LONG) -> None:
        super().__init__(message)


class NotFound(PollamaError):
    """Something the request names (a blob, a file) does not exist."""


class ModelNotFound(NotFound):
    """The model named by the request is not in the store."""

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message if message is not None else f"model '{name}' not found")
        self.name = name


class Unauthorized(PollamaError):
    """The caller is not allowed to do this."""


class ServerBusy(PollamaError):
    """Too many requests are already waiting."""

    def __init__(self, message: str = SERVER_BUSY) -> None:
        super().__init__(message)


class TooLarge(PollamaError):
    """The request body is larger than the server accepts."""


class Failed(PollamaError):
    """The server accepted the request and failed to carry it out."""


class InvalidOption(Failed):
    """An ``options`` value of the wrong type (Ollama reports these as internal errors)."""


class RunnerStopped(Failed):
    """The runner process died while (or before) serving the request."""

    def __init__(self, message: str = RUNNER_STOPPED) -> None:
        super().__init__(message)


class RunnerLoadFailed(Failed):
    """The runner process failed to start or to load the model."""


class RegistryFailed(Failed):
    """A registry request failed; the message is Ollama's for the same failure."""
