"""Which registered model serves which task.

A model forced by the caller serves every task. Otherwise a site model whose `tasks` list names
the task serves it (so registering both RadLite GGUFs with their presets routes as RadLite
routes); every other task goes to the default model.
"""

from __future__ import annotations

from radlite_fhir.engine.registry import ModelSpec, Registry


class Router:
    def __init__(self, registry: Registry, forced: str | None = None) -> None:
        self.registry = registry
        self.forced = registry.get(forced) if forced else None

    def model_for(self, task: str) -> ModelSpec:
        if self.forced is not None:
            return self.forced
        for spec in reversed(list(self.registry.site.values())):
            if spec.tasks and task in spec.tasks:
                return spec
        return self.registry.get("default")
