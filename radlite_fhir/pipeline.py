"""The one path every front end calls: a `Report` in, `Findings` out.

For each requested task: route to a model, build the calls for that model's prompt profile,
generate, and let the task parse, validate and cross-check the answers. Tasks run in a fixed
order so that consecutive calls on one report share the longest prompt prefix.

A report a model cannot read (its prompt does not fit the model's context) is not enriched
and says so: `enrich` raises `ReportNotEnriched`, which the front ends record as that report's
error. It used to become a "skipped" result that no writer shows, so a file of long reports
was "done" with nothing in it. A time budget, when given, is checked before each model call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from radlite_fhir.budget import TimeBudget
from radlite_fhir.engine import runtime
from radlite_fhir.engine.registry import ModelSpec, Registry
from radlite_fhir.engine.router import Router
from radlite_fhir.errors import ConfigError, ModelError, RadliteError, RuntimeUnavailable
from radlite_fhir.report import Findings, ModelInfo, Origin, Report, Status, TaskResult, TaskTiming
from radlite_fhir.tasks import TASK_NAMES, Answer, all_tasks, answer_from
from radlite_fhir.tasks.profiles import PROMPT_VERSIONS


class ReportNotEnriched(RadliteError):
    """A model call for this report failed in a way no retry changes (its prompt does not fit
    the model's context): the report has no results, and the front end records why. The
    message names the task, the token counts and the model, never report text."""


@dataclass(frozen=True)
class PipelineSettings:
    tasks: tuple[str, ...] = TASK_NAMES
    model: str | None = None
    rules_first: bool = False  # skip a model call the report's explicit statements settle
    threads: int | None = None
    fresh_prompts: bool = False  # the notebook's way: no KV reuse at all (benchmarks only)
    # A label the model alone chose (no statement in the text) with a lower probability is
    # not coded: a zero-shot model asked for TNM on a normal radiograph still answers.
    min_confidence: float = 0.5


def parse_task_list(text: str) -> tuple[str, ...]:
    """'rads,staging' -> ('rads', 'staging'), in the pipeline's fixed order; checked."""
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in TASK_NAMES]
    if unknown or not wanted:
        raise ConfigError(
            f"unknown tasks {unknown or text!r} (choose from {', '.join(TASK_NAMES)})"
        )
    return tuple(t for t in TASK_NAMES if t in wanted)


def confidence_floor(results: list[TaskResult], floor: float) -> list[TaskResult]:
    """Model-only coded labels below `floor` become low-confidence (kept, not coded)."""
    return [
        replace(r, status=Status.LOW_CONFIDENCE)
        if r.status is Status.CODED
        and r.origin is Origin.MODEL
        and r.confidence is not None
        and r.confidence < floor
        else r
        for r in results
    ]


def model_info(spec: ModelSpec) -> ModelInfo:
    return ModelInfo(
        name=spec.name,
        sha256=spec.sha256,
        version=spec.version,
        profile=spec.profile,
        prompt_version=PROMPT_VERSIONS[spec.profile],
        adapter_sha256=spec.adapter_sha256,
    )


class Pipeline:
    """Holds the router and the task objects; models load on first use, once per process."""

    def __init__(self, registry: Registry, settings: PipelineSettings) -> None:
        self.settings = settings
        self.router = Router(registry, settings.model)
        tasks = all_tasks()
        self.tasks = [tasks[name] for name in settings.tasks]

    def models(self) -> list[ModelSpec]:
        """The distinct models this run will use (for start-up loading and provenance)."""
        seen: dict[str, ModelSpec] = {}
        for task in self.tasks:
            spec = self.router.model_for(task.name)
            seen.setdefault(spec.name, spec)
        return list(seen.values())

    def warm_up(self) -> None:
        """Verify and load every routed model now, so a bad model fails before any input."""
        for spec in self.models():
            runtime.load(spec, self.settings.threads)

    def enrich(self, report: Report, budget: TimeBudget | None = None) -> Findings:
        """The report's findings. Raises ReportNotEnriched when a model cannot read it, and
        TimeBudgetExceeded when `budget` runs out before a model call."""
        results: list[TaskResult] = []
        timings: list[TaskTiming] = []
        for task in self.tasks:
            spec = self.router.model_for(task.name)
            model = runtime.load(spec, self.settings.threads)
            info = model_info(spec)
            answers: dict[str, Answer] = {}
            skip = self.settings.rules_first and task.answered_by_text(report)
            for call in [] if skip else task.calls(report, spec.profile):
                if budget is not None:
                    budget.check(f"before the {call.key} model call")
                if self.settings.fresh_prompts:
                    model.reset()
                try:
                    completion = model.complete(call)
                except RuntimeUnavailable:
                    raise  # the engine, not the report: the front end retries
                except ModelError as exc:  # loading failed above, not here: this is the report
                    raise ReportNotEnriched(f"task {task.name}: {exc}") from None
                answers[call.key] = answer_from(call, completion, info)
                timings.append(
                    TaskTiming(
                        task=call.key,
                        model=spec.name,
                        prompt_tokens=completion.prompt_tokens,
                        evaluated_prompt_tokens=completion.evaluated_prompt_tokens,
                        completion_tokens=completion.completion_tokens,
                        prompt_seconds=completion.prompt_seconds,
                        decode_seconds=completion.decode_seconds,
                    )
                )
            results.extend(
                confidence_floor(task.interpret(report, answers), self.settings.min_confidence)
            )
        return Findings(report=report, results=tuple(results), timings=tuple(timings))
