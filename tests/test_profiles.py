"""The radlite profile is an interface: byte-exact against radlite-contract.md."""

from __future__ import annotations

from radlite_fhir.tasks import all_tasks
from radlite_fhir.tasks.profiles import (
    RADLITE,
    STRUCTURED,
    radlite_call,
    strip_think,
    structured_prefix,
)
from tests.helpers import report

FRAME = (
    "<|im_start|>system\nYou are an expert radiologist. Follow the instructions and provide "
    "an accurate response.<|im_end|>\n<|im_start|>user\n{PROMPT}<|im_end|>\n"
    "<|im_start|>assistant\n"
)
TEXT = "FINDINGS:\nSpiculated mass.\nIMPRESSION:\nSuspicious."

# Copied from radlite-contract.md, "Task prompts" (with `\n` as newlines).
CONTRACT = {
    "rads_assignment": "[TASK: rads_assignment]\nClassify the following radiology report into "
    "the appropriate RADS category. Output ONLY the RADS category (e.g., 'BI-RADS 4', "
    "'PI-RADS 3', 'TI-RADS 5').\n\nReport:\n{report}",
    "impression_generation": "[TASK: impression_generation]\nGenerate a concise clinical "
    "impression from the following radiology findings.\n\nFindings:\n{report}",
    "radiology_ner": "[TASK: radiology_ner]\nExtract all anatomical structures, observations "
    "(present/absent/uncertain), and change indicators from the following report.\n\n"
    "Report:\n{report}",
    "n_staging": "[TASK: n_staging]\nRadiology Report: Lower thorax: Clear. Lymph nodes: "
    "Multiple enlarged retroperitoneal and para-aortic lymph nodes, largest 2.3 cm. IMPRESSION: "
    "1. Retroperitoneal lymphadenopathy. Lymph node involvement: Positive. N staging: N2\n\n"
    "Radiology Report: Lower thorax: Clear. Liver: Normal. Lymph nodes: No lymphadenopathy. "
    "IMPRESSION: 1. No acute findings. Lymph node involvement: Negative. N staging: N0\n\n"
    "Radiology Report: {report}\n\nLymph node involvement:",
    "m_staging": "[TASK: m_staging]\nRadiology Report: {report}\n\nDetermine the M staging "
    "(metastatic involvement):",
}
TRAINING_ONLY = {
    "radiology_nli": "[TASK: radiology_nli]\n{report}\n\nDetermine if the hypothesis is "
    "entailed, contradicted, or neutral given the premise:",
    "abnormality_detection": "[TASK: abnormality_detection]\nClassify each finding as "
    "positive, negative, or uncertain: atelectasis, cardiomegaly, consolidation, edema, "
    "enlarged cardiomediastinum, fracture, lung lesion, lung opacity, pleural effusion, pleural "
    "other, pneumonia, pneumothorax, support devices, no finding.\n\nReport:\n{report}",
}
MAX_TOKENS = {
    "rads_assignment": 30,
    "n_staging": 64,
    "m_staging": 10,
    "impression_generation": 256,
    "radiology_ner": 256,
    "radiology_nli": 10,
    "abnormality_detection": 256,
}


def test_radlite_profile_is_byte_exact() -> None:
    sample = report(TEXT)
    calls = {c.key: c for task in all_tasks().values() for c in task.calls(sample, RADLITE)}
    assert set(calls) == set(CONTRACT)
    for key, template in CONTRACT.items():
        source = "Spiculated mass." if key == "impression_generation" else TEXT
        expected = FRAME.replace("{PROMPT}", template.replace("{report}", source))
        assert calls[key].prompt == expected, key
        assert calls[key].max_tokens == MAX_TOKENS[key]
        assert calls[key].temperature == 0.1
        assert calls[key].stop == ("<|im_end|>",)


def test_training_only_radlite_prompts_are_byte_exact() -> None:
    for key, template in TRAINING_ONLY.items():
        call = radlite_call(key, "Premise: A. Hypothesis: B.")
        assert call.prompt == FRAME.replace(
            "{PROMPT}", template.replace("{report}", "Premise: A. Hypothesis: B.")
        )
        assert call.max_tokens == MAX_TOKENS[key]


def test_structured_prompts_share_the_report_prefix() -> None:
    sample = report(TEXT)
    prefix = structured_prefix(TEXT)
    calls = [c for task in all_tasks().values() for c in task.calls(sample, STRUCTURED)]
    assert len(calls) == 4
    for call in calls:
        assert call.prompt.startswith(prefix)
        assert call.prompt == prefix + call.answer_prefix
        assert call.answer_prefix.endswith(":")
    assert all(c.grammar for c in calls if c.key != "impression_generation")


def test_qwen3_think_block_is_stripped() -> None:
    assert strip_think("<think>\n\n</think>\n\nBI-RADS 4") == "BI-RADS 4"
    assert strip_think("M0<|im_end|>") == "M0"
