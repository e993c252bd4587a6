"""Quantize a GGUF with llama.cpp's quantizer, as a subprocess: ``python -m pollama.runner.quantize IN OUT TYPE``.

The server runs this in its own process (like Ollama runs ``llama-quantize``) so a crash or abort inside
llama.cpp cannot take the server down. Progress goes to stdout, one ``progress <done> <total>`` line per tensor
(parsed from llama.cpp's ``[ 12/ 201]`` log lines); llama.cpp's warnings and errors go to stderr. Exit status 0
means OUT is complete.
"""

from __future__ import annotations

import ctypes
import re
import sys

# llama_ftype values of the types Ollama can quantize to (ggml.ParseFileType).
FTYPES = {"F32": 0, "F16": 1, "Q8_0": 7, "Q4_K_S": 14, "Q4_K_M": 15, "Q4_K": 15, "BF16": 32}

_PROGRESS = re.compile(rb"\[\s*(\d+)/\s*(\d+)\]")
_LOG_WARN = 3  # ggml_log_level: GGML_LOG_LEVEL_WARN (ERROR is 4)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[2] not in FTYPES:
        print(f"usage: python -m pollama.runner.quantize IN OUT {{{','.join(FTYPES)}}}", file=sys.stderr)
        return 2
    src, dst, type_name = argv
    import llama_cpp as ll  # imported here so `--help`-style misuse does not load libllama

    @ll.llama_log_callback  # type: ignore[untyped-decorator]
    def on_log(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        m = _PROGRESS.match(text)
        if m is not None:
            sys.stdout.write(f"progress {int(m.group(1))} {int(m.group(2))}\n")
            sys.stdout.flush()
        elif level >= _LOG_WARN and level != 5:  # 5 = continuation of a previous line
            sys.stderr.write(text.decode("utf-8", errors="replace"))
            sys.stderr.flush()

    ll.llama_log_set(on_log, ctypes.c_void_p(0))
    ll.llama_backend_init()
    params = ll.llama_model_quantize_default_params()
    params.ftype = FTYPES[type_name]
    params.allow_requantize = True  # Ollama runs llama-quantize with --allow-requantize
    params.nthread = 0  # llama.cpp picks the hardware concurrency
    rc = ll.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        print(f"llama_model_quantize failed with status {rc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
