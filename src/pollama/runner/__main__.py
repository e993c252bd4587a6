"""Entry point of a runner process: ``python -m pollama.runner``.

    python -m pollama.runner --model PATH --socket PATH --num-ctx N --parallel P
                             [--num-batch B] [--num-thread T] [--mmap | --no-mmap]
                             [--flash-attn | --no-flash-attn] [--cache-type f16|q8_0|q4_0]
                             [--cache-ram MIB] [--cache-file PATH] [--verbose]

--model       GGUF file to load
--socket      Unix socket the pollama server is listening on; the runner connects to it once the model is
              loaded and its first frame is ``ready`` (so a connection means "loaded")
--num-ctx     context length of each sequence (the KV cache holds num_ctx × parallel tokens)
--parallel    number of sequences decoded together (llama.cpp n_seq_max)
--num-batch   maximum tokens per llama_decode call (default 512)
--num-thread  CPU threads; 0 (default) means the number of physical cores
--mmap/--no-mmap  force memory-mapping the model on or off (default: llama.cpp decides)
--flash-attn/--no-flash-attn  force flash attention on or off (default: llama.cpp decides)
--cache-type  KV cache type for keys and values (default f16; a quantized type needs --flash-attn)
--cache-ram   MiB of host memory for the prompt cache of sequences evicted from the slots (default 0: none)
--cache-file  read the prompt cache from this file at start (then delete it) and write it there at exit
--verbose     pass all of llama.cpp's log to stderr (otherwise warnings and errors only)

The process exits when the server closes the connection. Diagnostics go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from pollama.runner.types import LoadSpec


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m pollama.runner")
    ap.add_argument("--model", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--num-ctx", type=int, required=True)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--num-batch", type=int, default=512)
    ap.add_argument("--num-thread", type=int, default=0)
    ap.add_argument("--mmap", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--flash-attn", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--cache-type", choices=("f16", "q8_0", "q4_0"), default="f16")
    ap.add_argument("--cache-ram", type=int, default=0)
    ap.add_argument("--cache-file", default=None)
    ap.add_argument("--verbose", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(levelname)s runner: %(message)s",
    )
    # Imported here so that `--help` works without loading libllama.
    from pollama.runner.llama import Model, init_backend
    from pollama.runner.serve import serve

    spec = LoadSpec(
        model_path=args.model,
        num_ctx=args.num_ctx,
        num_parallel=max(1, args.parallel),
        num_batch=max(1, args.num_batch),
        num_thread=args.num_thread,
        use_mmap=args.mmap,
        flash_attention=args.flash_attn,
        kv_cache_type=args.cache_type,
        cache_ram=max(0, args.cache_ram),
        cache_file=args.cache_file,
    )
    init_backend(args.verbose)
    try:
        model = Model(spec)
    except RuntimeError as e:
        print(f"error loading model: {e}", file=sys.stderr, flush=True)
        return 1
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    serve(sock, model)
    sys.stderr.flush()
    # Skip interpreter teardown: freeing llama.cpp objects from finalizers at exit only risks a crash.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
