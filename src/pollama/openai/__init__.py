"""OpenAI's API on pollama: translation between OpenAI's request and response bodies and the native typed ones
(``chat``, ``completions``, ``embeddings``, ``models``, ``responses`` and ``responses_out``), and OpenAI's error
shape (``errors``). The routes live in ``pollama.server``."""
