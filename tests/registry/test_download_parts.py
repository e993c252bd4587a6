"""Part sizing and the on-disk part state, which must stay readable by Ollama's JSON decoder."""

from __future__ import annotations

import json

from pollama.registry.parts import MAX_PART_SIZE, MIN_PART_SIZE, Part, part_sizes
from pollama.registry.push import manifest_for_push
from pollama.store.manifest import Manifest


def test_part_sizes_clamped_like_ollama() -> None:
    assert part_sizes(0) == []
    assert part_sizes(10) == [(0, 10)]
    assert part_sizes(253_113_024) == [
        (0, MIN_PART_SIZE),
        (MIN_PART_SIZE, MIN_PART_SIZE),
        (2 * MIN_PART_SIZE, 53_113_024),
    ]
    sizes = part_sizes(3_200_000_000)
    assert len(sizes) == 16 and all(s == 200_000_000 for _, s in sizes)
    assert part_sizes(40_000_000_000)[0] == (0, MAX_PART_SIZE)
    total = 1_234_567_891
    assert sum(s for _, s in part_sizes(total)) == total


def test_part_state_is_fixed_width_json() -> None:
    a = Part(2, 200_000_000, 100_000_000, 0).state()
    b = Part(2, 200_000_000, 100_000_000, 99_999_999).state()
    assert len(a) == len(b)  # an in-place overwrite never leaves a longer old tail behind
    assert json.loads(b) == {"N": 2, "Offset": 200_000_000, "Size": 100_000_000, "Completed": 99_999_999}


def test_push_manifest_is_go_marshal_of_known_fields() -> None:
    raw = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        b'"config":{"mediaType":"c","digest":"sha256:aa","size":1},'
        b'"layers":[{"mediaType":"m","digest":"sha256:bb","size":2,"from":"x/y","extra":1}],"x":1}\n'
    )
    assert manifest_for_push(Manifest.from_bytes(raw)) == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        b'"config":{"mediaType":"c","digest":"sha256:aa","size":1},'
        b'"layers":[{"mediaType":"m","digest":"sha256:bb","size":2,"from":"x/y"}]}'
    )
