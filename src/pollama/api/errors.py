"""The one error type that use-cases raise and routes turn into ``{"error": ...}`` with a status."""

from __future__ import annotations


class APIError(Exception):
    """An error with the HTTP status and message Ollama gives for it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"APIError({self.status}, {self.message!r})"


def not_found(model: str) -> APIError:
    return APIError(404, f"model '{model}' not found")


SERVER_BUSY = "server busy, please try again.  maximum pending requests exceeded"
