"""Registry client: pull and push models over the OCI distribution protocol, as Ollama does (reference §6)."""
