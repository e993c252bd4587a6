"""Runner implementations behind one ``Runner`` protocol (``engines.base``): today the local llama.cpp runner
process (``engines.llamacpp``)."""
