"""The OpenAI-compatible layers: wire models of OpenAI's APIs and pure translations to and from the native
requests and responses; the routes live in ``pollama.server``."""
