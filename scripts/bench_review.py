"""Page load of the review page for a long report: 5,000 words, 100 results (issue 14 target:
<= 200 ms). Builds the report through the real writers (an enriched Bundle), serves it with
the real app and times GET /review/report/<key> over loopback HTTP: the first load (the
queue file parsed and validated) and the median of 20 warm loads; then the same report from
the JSON API with a reviewer bearer token (the first call pays the scrypt check, later ones
find the verified token in memory). Prints, asserts nothing.

    .venv/bin/python scripts/bench_review.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS = ("nodule", "lobe", "solid", "margin", "stable", "segment", "lesion", "normal", "size")


def long_findings(results: int = 100, words: int = 5000):
    from radlite_fhir.report import Evidence, Findings, Origin, Report, Status, TaskResult, digest
    from radlite_fhir.sections import split_sections
    from tests.helpers import MODEL

    body = " ".join(WORDS[i % len(WORDS)] + ("." if i % 12 == 11 else "") for i in range(words))
    text = f"FINDINGS:\n{body}\nIMPRESSION:\nLung-RADS 2."
    report = Report(
        text=text,
        source_path="bench.json",
        source_reference={"reference": "DiagnosticReport/bench"},
        subject={"reference": "Patient/bench"},
        sections=split_sections(text),
        source_digest=digest(text),
        source_resource={
            "resourceType": "DiagnosticReport",
            "id": "bench",
            "status": "final",
            "code": {"text": "CT Chest (benchmark)"},
            "conclusion": text,
        },
    )
    out = [
        TaskResult("rads", "rads", "Lung-RADS 2", Status.CODED, Origin.MODEL_AND_TEXT,
                   Evidence(len(text) - 12, len(text) - 1, "Lung-RADS 2", "statement"),
                   model=MODEL, confidence=0.9),
    ]  # fmt: skip
    kinds = ("anatomy", "observation_present", "observation_absent", "observation_uncertain")
    position = 0
    for number in range(results - 1):
        word = WORDS[number % len(WORDS)]
        position = text.index(word, position + 1)
        out.append(
            TaskResult("ner", f"entity:{kinds[number % 4]}", word, Status.CODED, Origin.MODEL,
                       Evidence(position, position + len(word), word, "mention"), model=MODEL,
                       item_key=f"{number}:{word}", confidence=0.5 + (number % 50) / 100)
        )  # fmt: skip
    return Findings(report, tuple(out))


def main() -> int:
    import httpx
    import uvicorn

    from radlite_fhir.review.app import review_app
    from radlite_fhir.review.auth import add_reviewer, add_token
    from radlite_fhir.review.settings import ReviewSettings
    from radlite_fhir.writers.fhir import render

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "queue").mkdir()
        findings = long_findings()
        (root / "queue" / "bench.enriched.json").write_text(render([findings], "enriched"))
        add_reviewer(root / "reviewers.toml", "bench", "Bench Mark", "benchmark")
        token = add_token(root / "tokens", "api", "Api Client")
        settings = ReviewSettings(
            root / "queue", root / "state", root / "reviewers.toml", tokens=root / "tokens"
        )
        server = uvicorn.Server(
            uvicorn.Config(review_app(settings), host="127.0.0.1", port=0, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False) as client:
            form = client.get("/review/login").text
            csrf = form.split('name="csrf" value="')[1].split('"')[0]
            client.post(
                "/review/login",
                data={"csrf": csrf, "username": "bench", "password": "benchmark"},
            )
            start = time.perf_counter()
            queue = client.get("/review/").text
            cold = time.perf_counter() - start
            key = queue.split('href="/review/report/')[1].split('"')[0]
            times, size = [], 0
            for _ in range(21):
                start = time.perf_counter()
                page = client.get(f"/review/report/{key}")
                times.append(time.perf_counter() - start)
                size = len(page.content)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
            api_times = []
            for _ in range(21):
                start = time.perf_counter()
                answer = api.get(f"/review/api/report/{key}")
                api_times.append(time.perf_counter() - start)
                if answer.status_code != 200:
                    raise SystemExit(f"the API answered HTTP {answer.status_code}")
        server.should_exit = True
        thread.join(timeout=10)
    words = len(findings.report.text.split())
    print(f"report: {words} words, {len(findings.results)} results, page {size / 1000:.0f} kB")
    print(f"first queue load (parse + validate the Bundle): {cold * 1000:.0f} ms")
    print(f"report page, first load: {times[0] * 1000:.1f} ms")
    print(
        f"report page, warm: median {statistics.median(times[1:]) * 1000:.1f} ms, "
        f"max {max(times[1:]) * 1000:.1f} ms (target <= 200 ms)"
    )
    print(
        f"JSON API with a bearer token: first {api_times[0] * 1000:.1f} ms (scrypt check), "
        f"warm median {statistics.median(api_times[1:]) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
