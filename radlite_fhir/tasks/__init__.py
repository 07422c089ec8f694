"""Tasks: each builds its model calls for a profile and turns answers into `TaskResult`s.

A task never reads files or writes FHIR/DICOM; the pipeline hands it a `Report` and the raw
answers, so training builds its samples with exactly these prompt builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from radlite_fhir.engine.calls import Completion, ModelCall
from radlite_fhir.report import ModelInfo, Report, TaskResult


@dataclass(frozen=True)
class Answer:
    """A model's raw text for one call, with the model that wrote it."""

    text: str
    model: ModelInfo
    token_logprobs: tuple[tuple[str, float], ...] = ()


def answer_from(call: ModelCall, completion: Completion, model: ModelInfo) -> Answer:
    """The task's view of a completion. The answer label we wrote is part of the answer; as a
    token of probability 1 it keeps confidence offsets aligned with the text."""
    logprobs = completion.token_logprobs
    if call.answer_prefix and logprobs:
        logprobs = ((call.answer_prefix, 0.0), *logprobs)
    return Answer(call.answer_prefix + completion.text, model, logprobs)


class Task(Protocol):
    name: str

    def calls(self, report: Report, profile: str) -> list[ModelCall]:
        """The generations this task needs for `report` under `profile` (may be none)."""
        ...

    def answered_by_text(self, report: Report) -> bool:
        """True when explicit statements settle every item this task codes (rules first)."""
        ...

    def interpret(self, report: Report, answers: dict[str, Answer]) -> list[TaskResult]:
        """Parse, validate, cross-check with the text; never code what does not parse."""
        ...


def all_tasks() -> dict[str, Task]:
    from radlite_fhir.tasks.impression import ImpressionTask
    from radlite_fhir.tasks.ner import NerTask
    from radlite_fhir.tasks.rads import RadsTask
    from radlite_fhir.tasks.staging import StagingTask

    tasks: list[Task] = [RadsTask(), StagingTask(), NerTask(), ImpressionTask()]
    return {task.name: task for task in tasks}


TASK_NAMES = ("rads", "staging", "ner", "impression")
