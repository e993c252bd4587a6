"""The built-in web page served at ``/ui/``: its built assets (``static/``, the output of the sources in the
repository's ``ui/`` folder, committed so that ``pip install`` needs no Node.js) and what the page asks of the
server beyond the API (``modelfile.py``)."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"
"""The page's files: ``index.html`` and the content-hashed scripts, styles and icon it links."""
