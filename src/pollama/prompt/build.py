"""Building the prompt text for /api/chat and /api/generate (Ollama's server/prompt.go and GenerateHandler).

Owns history truncation to `num_ctx` (drop leading messages, keep the last one and every system message
from the dropped prefix), the `[img-N]` image markers, and the generate-path message list. Tokenizing is
the caller's: `count_tokens` runs the model's tokenizer (through the runner) and returns the token count.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable, Callable
from itertools import pairwise

from pollama.api.types import Think

from .template import ChatTemplate, Template, Values
from .types import Message, Tool

CountTokens = Callable[[str], Awaitable[int]]

UNSET_THINK = Think()

# Ollama's heuristic cost of one image in context when the model has a vision projector.
IMAGE_TOKENS = 768


def tag_images(messages: list[Message], start: int) -> tuple[list[Message], list[bytes]]:
    """imageTaggedMessages: number images from messages[start:] and mark them in their content.

    The first `[img]` placeholder is replaced by `[img-N]`; otherwise markers are prefixed (no space).
    Returns copies (callers' messages are not mutated) and the images in marker order.
    """
    out = [m.copy() for m in messages]
    images: list[bytes] = []
    for m in out[start:]:
        prefix = ""
        content = m.content
        for img in m.images:
            tag = f"[img-{len(images)}]"
            images.append(img)
            if "[img]" in content:
                content = content.replace("[img]", tag, 1)
            else:
                prefix += tag
        m.content = prefix + content
    return out, images


def render(tmpl: ChatTemplate, messages: list[Message], tools: list[Tool] | None, think: Think) -> str:
    return tmpl.execute(
        Values(messages=messages, tools=tools, think=think.enabled, think_level=think.level, is_think_set=think.is_set)
    )


async def _truncation_start(
    tmpl: ChatTemplate,
    messages: list[Message],
    tools: list[Tool] | None,
    think: Think,
    num_ctx: int,
    count_tokens: CountTokens,
    image_tokens: int,
) -> int:
    """The smallest start index whose prompt fits `num_ctx` (the last message is always kept).

    Ollama scans i = 0, 1, ... rendering and tokenizing the whole conversation each time: O(n) renders and
    tokenizer round trips, minutes for a 10,000-message chat. The count is monotone non-increasing in i: going
    from i to i+1 either removes messages[i] from the rendered text or, for a system message, only moves it
    into the leading system block (same text, same images), and image costs only ever drop. So the fitting
    starts form a suffix of 0..last, and a search finds the same smallest one.

    The search gallops back from the end (keeping 1, 2, 4, ... messages) until a start does not fit, then
    bisects the last step: O(log k) renders of at most 2k messages for k kept, whatever the conversation's
    length. A conversation that plausibly fits whole (its text is under 4 characters per token of context) is
    tried whole first, which settles the common case in one render as Ollama's scan does.

    Monotonicity is a property of the template and tokenizer, not something pollama controls (a template
    could render a message only when others are absent; BPE merges at a moved system message's edges can
    shift a token). The probed counts are checked against each other; an inversion among them falls back
    to Ollama's linear scan, which is exact whatever the template does.
    """
    last = len(messages) - 1
    if last <= 0:
        return 0
    counts: dict[int, int] = {}
    systems = [k for k, m in enumerate(messages) if m.role == "system"]
    images_after = [0] * (last + 2)
    for k in range(last, -1, -1):
        images_after[k] = images_after[k + 1] + len(messages[k].images)

    async def fits(i: int) -> bool:
        if i not in counts:
            system = [messages[k] for k in systems[: bisect_left(systems, i)]]
            n = await count_tokens(render(tmpl, system + messages[i:], tools, think))
            counts[i] = n + image_tokens * images_after[i]
        return counts[i] <= num_ctx

    def monotone() -> bool:
        probed = sorted(counts.items())
        return all(a[1] >= b[1] for a, b in pairwise(probed))

    if sum(len(m.content) for m in messages) <= 4 * num_ctx and await fits(0):
        return 0
    # Gallop: `hi` always fits (the last message is kept whatever its size); find a `lo` that does not.
    hi, step, lo = last, 1, -1
    while hi > 0:
        i = max(0, last - step)
        if not await fits(i):
            lo = i
            break
        hi, step = i, 2 * step
    if lo < 0:
        start = 0
    else:
        lo += 1  # messages[lo - 1:] does not fit; the answer is in lo..hi
        while lo < hi:
            mid = (lo + hi) // 2
            if await fits(mid):
                hi = mid
            else:
                lo = mid + 1
        start = lo
    if monotone():
        return start
    for i in range(last + 1):
        if await fits(i) or i == last:
            return i
    return last


async def chat_prompt_with_images(
    tmpl: ChatTemplate,
    messages: list[Message],
    tools: list[Tool] | None,
    *,
    num_ctx: int,
    truncate: bool,
    count_tokens: CountTokens,
    think: Think = UNSET_THINK,
    image_tokens: int = 0,
) -> tuple[str, list[bytes]]:
    """chatPrompt: the rendered prompt and the images it refers to, in `[img-N]` order.

    `image_tokens` is the per-image context cost used while truncating (Ollama: 768 when the model has a
    projector, else 0).
    """
    start = (
        await _truncation_start(tmpl, messages, tools, think, num_ctx, count_tokens, image_tokens) if truncate else 0
    )
    system = [m for m in messages[:start] if m.role == "system"]
    tagged, images = tag_images(messages, start)
    return render(tmpl, system + tagged[start:], tools, think), images


async def chat_prompt(
    tmpl: ChatTemplate,
    messages: list[Message],
    tools: list[Tool] | None,
    *,
    num_ctx: int,
    truncate: bool,
    count_tokens: CountTokens,
    think: Think = UNSET_THINK,
    image_tokens: int = 0,
) -> str:
    """chatPrompt's prompt text (see chat_prompt_with_images for the images that go with it)."""
    prompt, _ = await chat_prompt_with_images(
        tmpl, messages, tools, num_ctx=num_ctx, truncate=truncate, count_tokens=count_tokens, think=think,
        image_tokens=image_tokens,
    )  # fmt: skip
    return prompt


def generate_messages(
    prompt: str,
    *,
    system: str = "",
    model_system: str = "",
    model_messages: list[Message] | None = None,
    images: list[bytes] | None = None,
    has_context: bool = False,
) -> list[Message]:
    """/api/generate's message list: [request or model SYSTEM] + model MESSAGEs (unless `context`) + user."""
    msgs: list[Message] = []
    if system:
        msgs.append(Message(role="system", content=system))
    elif model_system:
        msgs.append(Message(role="system", content=model_system))
    if not has_context:
        msgs.extend(m.copy() for m in model_messages or [])
    msgs.append(Message(role="user", content=prompt, images=list(images or [])))
    return msgs


async def generate_prompt(
    tmpl: ChatTemplate,
    prompt: str,
    *,
    num_ctx: int,
    truncate: bool,
    count_tokens: CountTokens,
    system: str = "",
    model_system: str = "",
    model_messages: list[Message] | None = None,
    images: list[bytes] | None = None,
    suffix: str = "",
    request_template: str = "",
    has_context: bool = False,
    think: Think = UNSET_THINK,
    image_tokens: int = 0,
) -> tuple[str, list[bytes]]:
    """The /api/generate prompt (not raw) and its images.

    A `suffix` or a request `template` executes the template directly (no truncation, no image markers; a
    bad request template raises TemplateError); otherwise the messages go through chat_prompt with no tools.
    Prepending a decoded `context` is the caller's job.
    """
    if request_template:
        tmpl = Template.parse(request_template)
    if suffix:
        values = Values(
            prompt=prompt, suffix=suffix, think=think.enabled, think_level=think.level, is_think_set=think.is_set
        )
        return tmpl.execute(values), list(images or [])
    msgs = generate_messages(
        prompt, system=system, model_system=model_system, model_messages=model_messages, images=images,
        has_context=has_context,
    )  # fmt: skip
    if request_template:
        return render(tmpl, msgs, None, think), list(images or [])
    return await chat_prompt_with_images(
        tmpl, msgs, [], num_ctx=num_ctx, truncate=truncate, count_tokens=count_tokens, think=think,
        image_tokens=image_tokens,
    )  # fmt: skip
