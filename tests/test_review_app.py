"""The review page's guards over HTTP: loopback only unless configured, login with the
reviewer list, the session cookie's flags, CSRF and Origin checks on every state change, and
error bodies that carry no report text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from radlite_fhir.errors import ConfigError
from radlite_fhir.review.app import review_app
from radlite_fhir.review.auth import add_reviewer
from radlite_fhir.review.settings import ReviewSettings
from tests.test_review_data import build_queue

LOCAL = ("127.0.0.1", 50000)


@pytest.fixture
def settings(tmp_path: Path) -> ReviewSettings:
    build_queue(tmp_path / "queue")
    add_reviewer(tmp_path / "reviewers.toml", "jdoe", "Jane Doe", "s3cret")
    return ReviewSettings(tmp_path / "queue", tmp_path / "state", tmp_path / "reviewers.toml")


def _login(client: TestClient, password: str = "s3cret") -> str:
    form = client.get("/review/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        "/review/login",
        data={"csrf": csrf.group(1), "username": "jdoe", "password": password},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return answer.headers["location"]


def test_remote_clients_are_refused_unless_configured(settings: ReviewSettings) -> None:
    remote = TestClient(review_app(settings), client=("10.1.2.3", 40000))
    assert remote.get("/review/login").status_code == 403
    allowed = ReviewSettings(settings.queue, settings.state, settings.reviewers, allow_remote=True)
    remote = TestClient(review_app(allowed), client=("10.1.2.3", 40000))
    assert remote.get("/review/login").status_code == 200


def test_login_sets_a_strict_httponly_session_and_wrong_passwords_fail(
    settings: ReviewSettings,
) -> None:
    client = TestClient(review_app(settings), client=LOCAL)
    assert client.get("/review/", follow_redirects=False).headers["location"] == "/review/login"
    assert _login(client, "wrong") == "/review/login?failed=1"
    form = client.get("/review/login")
    answer = client.post(
        "/review/login",
        data={
            "csrf": re.search(r'name="csrf" value="([^"]+)"', form.text).group(1),  # type: ignore[union-attr]
            "username": "jdoe",
            "password": "s3cret",
        },
        follow_redirects=False,
    )
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "radlite_review=" in v
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    queue = client.get("/review/")
    assert queue.status_code == 200 and "US Thyroid" in queue.text
    assert queue.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in queue.headers["content-security-policy"]


def test_login_without_the_form_token_is_refused(settings: ReviewSettings) -> None:
    client = TestClient(review_app(settings), client=LOCAL)
    client.get("/review/login")
    answer = client.post(
        "/review/login",
        data={"csrf": "forged", "username": "jdoe", "password": "s3cret"},
        follow_redirects=False,
    )
    assert answer.status_code == 403


def test_decisions_need_the_csrf_token_and_the_same_origin(settings: ReviewSettings) -> None:
    client = TestClient(review_app(settings), client=LOCAL)
    _login(client)
    queue = client.get("/review/").text
    key = re.search(r'href="/review/report/([0-9a-f]+)">US Thyroid', queue).group(1)  # type: ignore[union-attr]
    page = client.get(f"/review/report/{key}").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    item = re.search(r'data-key="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    body = {"report": key, "items": [item], "action": "accept"}
    assert client.post("/review/api/decide", json=body).status_code == 403
    crossed = client.post(
        "/review/api/decide",
        json=body,
        headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
    )
    assert crossed.status_code == 403
    wrong = client.post(
        "/review/api/decide",
        json={**body, "action": "correct", "value": "Lung-RADS 4X"},
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong.status_code == 409
    assert "Lung-RADS" not in wrong.text  # the rule is named, the value is not echoed
    ok = client.post("/review/api/decide", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["decided"] == {item: "accept"}
    anonymous = TestClient(review_app(settings), client=LOCAL)
    assert (
        anonymous.post("/review/api/decide", json=body, headers={"X-CSRF-Token": csrf}).status_code
        == 401
    )


def test_an_empty_reviewer_list_stops_start_up(settings: ReviewSettings) -> None:
    settings.reviewers.write_text("", "utf-8")
    with pytest.raises(ConfigError):
        review_app(settings)


def test_radlite_serve_mounts_the_review_page_beside_the_enrichment_routes(
    settings: ReviewSettings,
) -> None:
    """`radlite serve --queue ...`: one server; the review page keeps its own login."""
    from radlite_fhir.cli import build_parser
    from radlite_fhir.engine.registry import Registry
    from radlite_fhir.pipeline import Pipeline, PipelineSettings
    from radlite_fhir.review.app import review_router
    from radlite_fhir.review.cli import review_settings
    from radlite_fhir.service.api import ServeSettings, build_app

    args = build_parser().parse_args(
        [
            "serve",
            "--queue",
            str(settings.queue),
            "--state",
            str(settings.state),
            "--reviewers",
            str(settings.reviewers),
        ]
    )
    app = build_app(ServeSettings(), Pipeline(Registry.load(), PipelineSettings(tasks=())))
    app.include_router(review_router(review_settings(args)))
    client = TestClient(app, client=LOCAL)
    assert client.get("/healthz").status_code == 200
    assert _login(client).startswith("/review")
