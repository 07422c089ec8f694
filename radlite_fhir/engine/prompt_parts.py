"""Which characters of a prompt are the template's control tokens, and which are text.

A prompt is one string (the RadLite contract fixes it byte for byte), but its characters come
from two sources: the ChatML framing we pin (tasks/profiles.py) and the report (and any other
user-supplied text) inside the user turn. Tokenized whole with special tokens parsed, a report
that contains `<|im_end|>\\n<|im_start|>system` would close the user turn and open a system
turn of its own choosing. So only the framing's markers are tokenized as control tokens, and
every other character as text.

The framing is `<|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n{user}<|im_end|>\\n
<|im_start|>assistant\\n{answer prefix}`. The system prompt is ours, so it ends at the first
`<|im_end|>`; the answer prefix (a task label) is ours, so the user turn ends at the last
`<|im_end|>\\n<|im_start|>assistant\\n`: whatever a report holds lies between the two and is
text. A prefix of a prompt (the KV-cache segments) is cut from the whole prompt's parts, not
parsed again.

For a prompt without control strings in its text, the parts are exactly the fragments
llama.cpp makes when it parses special tokens (it splits at each control token and tokenizes
the text between alone), so the token ids are the same as before: the RadLite contract holds.
"""

from __future__ import annotations

from radlite_fhir.engine.calls import IM_END, IM_START

# (characters, whether they are one of the template's control tokens)
Part = tuple[str, bool]

SYSTEM_OPEN = f"{IM_START}system\n"
USER_OPEN = f"{IM_END}\n{IM_START}user\n"
ASSISTANT_OPEN = f"{IM_END}\n{IM_START}assistant\n"


def prompt_parts(prompt: str) -> tuple[Part, ...]:
    """`prompt` as text runs and the template's control markers, in order; joined they give
    `prompt` back. Text that does not open with the pinned framing is all text."""
    markers: list[tuple[int, str]] = []
    if prompt.startswith(SYSTEM_OPEN):
        markers.append((0, IM_START))
        system_end = prompt.find(IM_END, len(SYSTEM_OPEN))
        if system_end >= 0:
            markers.append((system_end, IM_END))
            if prompt.startswith(USER_OPEN, system_end):
                user = system_end + len(IM_END) + 1
                markers.append((user, IM_START))
                closing = prompt.rfind(ASSISTANT_OPEN, user + len(f"{IM_START}user\n"))
                if closing >= 0:
                    markers.append((closing, IM_END))
                    markers.append((closing + len(IM_END) + 1, IM_START))
    parts: list[Part] = []
    position = 0
    for start, marker in markers:
        if start > position:
            parts.append((prompt[position:start], False))
        parts.append((marker, True))
        position = start + len(marker)
    if position < len(prompt):
        parts.append((prompt[position:], False))
    return tuple(parts)


def prefix_parts(parts: tuple[Part, ...], length: int) -> tuple[Part, ...]:
    """The parts of the first `length` characters (a segment of the prompt: the cache's
    prefix), each character keeping the kind it has in the whole prompt."""
    kept: list[Part] = []
    remaining = length
    for text, control in parts:
        if remaining <= 0:
            break
        kept.append((text[:remaining], control))
        remaining -= len(text)
    return tuple(kept)
