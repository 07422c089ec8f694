"""Input prompts: the AI Transparency IG's AI-InputPrompt DocumentReference, template only.

The IG traces an AI output to the prompt the model read (AI-Provenance entity slice
inputPrompt, role derivation). Our prompts hold the report's text, and a report's text must not
travel into a resource that is shared by every report the prompt served, so the document
carries the prompt *template* of a profile and version: the exact text the product sends,
built by the product's own prompt code with a placeholder where the report goes. One document
per prompt profile and version, the same for every report.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from radlite_fhir.coding import CodeTables
from radlite_fhir.tasks.profiles import (
    PROMPT_VERSIONS,
    STRUCTURED,
    STRUCTURED_TASKS,
    radlite_call,
    structured_call,
)

MARKDOWN = "text/markdown"
REPORT_PLACEHOLDER = "{report}"
# The RadLite tasks the product runs (training alone uses the others).
RADLITE_PRODUCT_TASKS = (
    "rads_assignment",
    "n_staging",
    "m_staging",
    "radiology_ner",
    "impression_generation",
)


@dataclass(frozen=True)
class PromptTemplate:
    """A profile's prompt text per task, the report replaced by REPORT_PLACEHOLDER."""

    profile: str
    version: str
    prompts: tuple[tuple[str, str], ...]  # (task key, prompt text); none: not held

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.markdown().encode("utf-8")).hexdigest()

    def markdown(self) -> str:
        head = [
            f"# Prompt template: radlite-fhir profile `{self.profile}`, version {self.version}",
            "",
            f"The report's text is sent where `{REPORT_PLACEHOLDER}` stands; it is not part of "
            "this document. Each section is the whole text one task sends to the model, "
            "ChatML framing included.",
        ]
        if not self.prompts:
            head += [
                "",
                f"This radlite-fhir holds the template of version {PROMPT_VERSIONS[self.profile]}"
                f" of this profile, not of {self.version}: the text is not reproduced here.",
            ]
        elif self.profile == STRUCTURED:
            head += [
                "",
                "A RADS feature question (asked when the lexicon cannot read a feature the "
                "decision table needs) sends the same text as the tasks up to the assistant "
                "turn, then its own opening words ('Feature: <system> <feature> of lesion <n>:').",
            ]
        body = []
        for key, prompt in self.prompts:
            body += ["", f"## {key}", "", "````text", prompt, "````"]
        return "\n".join([*head, *body, ""])


def prompt_template(profile: str, version: str) -> PromptTemplate:
    """The template of `profile`, built by the same functions that build the real prompts. A
    version other than the one this code sends (results of an older release) gets no text:
    we do not label today's template with another version."""
    if profile not in PROMPT_VERSIONS:
        raise ValueError(f"no prompt template for profile {profile!r}")
    if version != PROMPT_VERSIONS[profile]:
        return PromptTemplate(profile, version, ())
    if profile == STRUCTURED:
        prompts = tuple(
            (key, structured_call(key, REPORT_PLACEHOLDER, max_tokens=1).prompt)
            for key in STRUCTURED_TASKS
        )
    else:
        prompts = tuple(
            (key, radlite_call(key, REPORT_PLACEHOLDER).prompt) for key in RADLITE_PRODUCT_TASKS
        )
    return PromptTemplate(profile, version, prompts)


def input_prompt_document(
    template: PromptTemplate, tables: CodeTables, identifier: dict[str, str]
) -> dict:
    """The AI-InputPrompt DocumentReference (without id): type AIinputsCS#AIInputPrompt, the
    template as text/markdown data, its sha256 as a second identifier."""
    markdown = template.markdown()
    base = tables.systems["project_base"]
    return {
        "resourceType": "DocumentReference",
        "meta": {"profile": [tables.systems["ai_input_prompt_profile"]]},
        "identifier": [
            identifier,
            {"system": f"{base}/identifier/prompt-template-sha256", "value": template.sha256},
        ],
        "status": "current",
        "type": {"coding": tables.observation_code("ai_transparency", "input_prompt_type")},
        "description": (
            f"Prompt template of radlite-fhir's '{template.profile}' profile, version "
            f"{template.version}: the report's text is sent where {REPORT_PLACEHOLDER} stands "
            "and is not part of this document."
        ),
        "content": [
            {
                "attachment": {
                    "contentType": MARKDOWN,
                    "data": base64.b64encode(markdown.encode("utf-8")).decode("ascii"),
                    "title": f"Prompt template {template.version}",
                }
            }
        ],
    }
