"""Prompt profiles: how a task question and the report become the text a model reads.

"radlite" reproduces the RadLite inference contract byte for byte (radlite-contract.md), so a
site that registers the published RadLite GGUFs gets the answers the authors' notebook gets.
"structured" is this project's own: system prompt and report first, the task instruction last,
so the evaluated prefix (system + report) is the same for every task on a report and
llama.cpp's prefix cache reads the report once; short answers are grammar-constrained.
"""

from __future__ import annotations

from radlite_fhir.engine.calls import IM_END, IM_START, ModelCall

RADLITE = "radlite"
STRUCTURED = "structured"
PROFILES = (RADLITE, STRUCTURED)
PROMPT_VERSIONS = {RADLITE: "radlite-2605.00421-v1", STRUCTURED: "structured-v3"}

RADLITE_SYSTEM = (
    "You are an expert radiologist. Follow the instructions and provide an accurate response."
)
# The structured profile keeps every task's instruction in the system prompt (the same for all
# reports, so llama.cpp keeps it cached) and names the task by the label the answer starts
# with, written by us at the start of the assistant turn: the only tokens that differ between
# two tasks on one report are that label (two or three tokens).
STRUCTURED_TASKS = {
    "rads_assignment": (
        "RADS:",
        "the RADS category the report supports: the reporting system and the category, for "
        "example 'BI-RADS 4', 'LI-RADS 5', 'Lung-RADS 4A', 'TI-RADS 3', or 'No applicable "
        "RADS' when no RADS system applies to the examination.",
    ),
    "tnm_staging": (
        "TNM:",
        "the clinical TNM categories the imaging supports, as 'T<category> N<category> "
        "M<category>' (X where a category cannot be assessed from the images), or 'Not "
        "applicable' when the report describes no malignant tumour.",
    ),
    "radiology_ner": (
        "Anatomy:",
        "the anatomical structures and observations the report mentions, copying its words, "
        "in four lines: 'Anatomy: ...', 'Observation (Present): ...', 'Observation (Absent): "
        "...', 'Observation (Uncertain): ...'; items separated by '; ', 'none' on a line with "
        "no items.",
    ),
    "impression_generation": (
        "Impression:",
        "a concise clinical impression of the findings, in one to three sentences.",
    ),
}
STRUCTURED_SYSTEM = (
    "You are an expert radiologist. The user gives a radiology report. Your answer starts "
    "with a label that names the task; complete it exactly in the format below and write "
    "nothing else.\n" + "\n".join(f"'{label}' {text}" for label, text in STRUCTURED_TASKS.values())
)

# radlite-contract.md, "Task prompts": `{report}` substituted. Do not edit: an interface.
RADLITE_PROMPTS = {
    "rads_assignment": (
        "[TASK: rads_assignment]\nClassify the following radiology report into the appropriate "
        "RADS category. Output ONLY the RADS category (e.g., 'BI-RADS 4', 'PI-RADS 3', "
        "'TI-RADS 5').\n\nReport:\n{report}"
    ),
    "impression_generation": (
        "[TASK: impression_generation]\nGenerate a concise clinical impression from the "
        "following radiology findings.\n\nFindings:\n{report}"
    ),
    "radiology_ner": (
        "[TASK: radiology_ner]\nExtract all anatomical structures, observations "
        "(present/absent/uncertain), and change indicators from the following report."
        "\n\nReport:\n{report}"
    ),
    "n_staging": (
        "[TASK: n_staging]\nRadiology Report: Lower thorax: Clear. Lymph nodes: Multiple "
        "enlarged retroperitoneal and para-aortic lymph nodes, largest 2.3 cm. IMPRESSION: 1. "
        "Retroperitoneal lymphadenopathy. Lymph node involvement: Positive. N staging: N2\n\n"
        "Radiology Report: Lower thorax: Clear. Liver: Normal. Lymph nodes: No "
        "lymphadenopathy. IMPRESSION: 1. No acute findings. Lymph node involvement: Negative. "
        "N staging: N0\n\nRadiology Report: {report}\n\nLymph node involvement:"
    ),
    "m_staging": (
        "[TASK: m_staging]\nRadiology Report: {report}\n\nDetermine the M staging (metastatic "
        "involvement):"
    ),
    # Tasks the product does not run; training builds RadLite's own samples with them.
    "radiology_nli": (
        "[TASK: radiology_nli]\n{report}\n\nDetermine if the hypothesis is entailed, "
        "contradicted, or neutral given the premise:"
    ),
    "abnormality_detection": (
        "[TASK: abnormality_detection]\nClassify each finding as positive, negative, or "
        "uncertain: atelectasis, cardiomegaly, consolidation, edema, enlarged "
        "cardiomediastinum, fracture, lung lesion, lung opacity, pleural effusion, pleural "
        "other, pneumonia, pneumothorax, support devices, no finding.\n\nReport:\n{report}"
    ),
}
# radlite-contract.md, "Sampling": max_tokens per task (every other task 256).
RADLITE_MAX_TOKENS = {
    "rads_assignment": 30,
    "n_staging": 64,
    "m_staging": 10,
    "radiology_nli": 10,
}
RADLITE_TEMPERATURE = 0.1


def chatml(system: str, user: str) -> str:
    """ChatML framing pinned here rather than read from GGUF metadata (same for both models)."""
    return (
        f"{IM_START}system\n{system}{IM_END}\n{IM_START}user\n{user}{IM_END}\n{IM_START}assistant\n"
    )


def radlite_call(key: str, report_text: str) -> ModelCall:
    """A RadLite task exactly as the published notebook sends it."""
    user = RADLITE_PROMPTS[key].replace("{report}", report_text)
    return ModelCall(
        key=key,
        prompt=chatml(RADLITE_SYSTEM, user),
        max_tokens=RADLITE_MAX_TOKENS.get(key, 256),
        temperature=RADLITE_TEMPERATURE,
    )


STRUCTURED_HEAD = f"{IM_START}system\n{STRUCTURED_SYSTEM}{IM_END}\n{IM_START}user\nReport:\n"


def structured_prefix(report_text: str) -> str:
    """The part of every structured prompt that depends only on the report (the KV prefix)."""
    return f"{STRUCTURED_HEAD}{report_text}{IM_END}\n{IM_START}assistant\n"


def structured_call(
    key: str,
    report_text: str,
    max_tokens: int,
    grammar: str | None = None,
    confidence: bool = False,
) -> ModelCall:
    """A structured-profile task: the shared prefix, then the task's answer label."""
    if key not in STRUCTURED_TASKS:
        raise ValueError(f"no structured instruction for task {key!r}")
    return _after_prefix(
        key, report_text, STRUCTURED_TASKS[key][0], max_tokens, grammar, confidence
    )


def structured_feature_call(
    key: str, report_text: str, label: str, max_tokens: int, grammar: str
) -> ModelCall:
    """A question the system prompt does not list (a RADS feature the lexicon could not read):
    the same shared prefix, so the report is not read again; the answer's opening words, which
    we write, ask the question, and the grammar admits only its answers."""
    return _after_prefix(key, report_text, label, max_tokens, grammar, confidence=True)


def _after_prefix(
    key: str,
    report_text: str,
    label: str,
    max_tokens: int,
    grammar: str | None,
    confidence: bool,
) -> ModelCall:
    """The shared system + report prefix (cut as its own segments), then `label` we write."""
    return ModelCall(
        key=key,
        prompt=structured_prefix(report_text) + label,
        max_tokens=max_tokens,
        grammar=grammar,
        confidence=confidence,
        segments=(STRUCTURED_HEAD, structured_prefix(report_text)),
        answer_prefix=label,
    )


def without_label(answer: str, key: str) -> str:
    """The answer after its structured-profile label ('RADS: BI-RADS 4' -> 'BI-RADS 4')."""
    label = STRUCTURED_TASKS[key][0]
    text = answer.lstrip()
    return text[len(label) :].lstrip() if text.startswith(label) else answer


def strip_think(answer: str) -> str:
    """Remove the (empty) <think> block Qwen3 emits before every answer, and outer space."""
    text = answer
    while "<think>" in text:
        head, _, rest = text.partition("<think>")
        _, closed, tail = rest.partition("</think>")
        text = head + (tail if closed else "")
    return text.replace(IM_END, "").strip()


def gbnf_literal(text: str) -> str:
    """A GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
