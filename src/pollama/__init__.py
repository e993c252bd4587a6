"""pollama: a Python implementation of the Ollama server."""

__version__ = "0.1.0"
