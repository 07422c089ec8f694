"""The radlite profile's answers are unchanged by engine work (issue: speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.radlite_golden import GOLDEN, radlite_answers


@pytest.mark.model
@pytest.mark.parametrize("model_name", ["smollm2-135m", "qwen2.5-coder-0.5b"])
def test_radlite_answers_match_the_recording(
    model_name: str, smollm_path: Path, default_model_path: Path
) -> None:
    path = smollm_path if model_name == "smollm2-135m" else default_model_path
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))[model_name]
    assert radlite_answers(model_name, path) == recorded
