"""The review page's guards over HTTP: loopback only unless configured, login with the
reviewer list or a reviewer token, the session cookie's flags, CSRF and Origin checks on every
cookie-session state change, bearer tokens on the JSON API, and error bodies that carry no
report text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from radlite_fhir.errors import ConfigError
from radlite_fhir.review.app import review_app
from radlite_fhir.review.auth import add_reviewer, add_token, authenticate_token, load_tokens
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


# --- reviewer tokens ---------------------------------------------------------------------


@pytest.fixture
def token_settings(tmp_path: Path) -> tuple[ReviewSettings, str]:
    """The thyroid queue, a reviewer list (jdoe) and a token file (amy, a Practitioner)."""
    build_queue(tmp_path / "queue")
    add_reviewer(tmp_path / "reviewers.toml", "jdoe", "Jane Doe", "s3cret")
    token = add_token(tmp_path / "tokens", "amy", "Amy Lee", "Practitioner/al")
    settings = ReviewSettings(
        tmp_path / "queue",
        tmp_path / "state",
        tmp_path / "reviewers.toml",
        tokens=tmp_path / "tokens",
    )
    return settings, token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_token_file_holds_a_kdf_hash_never_the_token(tmp_path: Path) -> None:
    token = add_token(tmp_path / "tokens", "amy", "Amy Lee", "Practitioner/al")
    username, _, secret = token.rpartition(".")
    text = (tmp_path / "tokens").read_text("utf-8")
    assert username == "amy" and len(secret) >= 40
    assert secret not in text and token not in text
    (line,) = [x for x in text.splitlines() if not x.startswith("#")]
    assert line.split()[1].startswith("scrypt$")
    assert (tmp_path / "tokens").stat().st_mode & 0o077 == 0
    reviewers = load_tokens(tmp_path / "tokens")
    assert reviewers["amy"].name == "Amy Lee"
    assert reviewers["amy"].practitioner == "Practitioner/al"
    assert authenticate_token(reviewers, token) == reviewers["amy"]
    assert authenticate_token(reviewers, f"amy.{secret[:-1]}x") is None
    assert authenticate_token(reviewers, secret) is None
    # A new token for the same reviewer replaces the old one.
    second = add_token(tmp_path / "tokens", "amy", "Amy Lee", "Practitioner/al")
    reviewers = load_tokens(tmp_path / "tokens")
    assert authenticate_token(reviewers, second) is not None
    assert authenticate_token(reviewers, token) is None


def test_a_malformed_token_file_stops_start_up_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# comment\namy plaintext-token - Amy Lee\n", "utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        load_tokens(path)
    path.write_text("# nobody\n", "utf-8")
    with pytest.raises(ConfigError, match="names no reviewer"):
        load_tokens(path)


def test_one_person_has_one_identity_in_list_and_token_file(tmp_path: Path) -> None:
    build_queue(tmp_path / "queue")
    add_reviewer(tmp_path / "reviewers.toml", "amy", "Amy Lee", "s3cret")
    add_token(tmp_path / "tokens", "amy", "A. Lee", None)
    settings = ReviewSettings(
        tmp_path / "queue", tmp_path / "state", tmp_path / "reviewers.toml",
        tokens=tmp_path / "tokens",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="one identity"):
        review_app(settings)
    with pytest.raises(ConfigError):
        ReviewSettings(tmp_path / "queue", tmp_path / "state", None)


def test_the_api_answers_a_bearer_token_without_cookie_or_csrf(
    token_settings: tuple[ReviewSettings, str],
) -> None:
    """An API client reads the queue and a report and decides every result with the token
    alone; the sign-off's Provenance names the token's reviewer."""
    settings, token = token_settings
    client = TestClient(review_app(settings), client=LOCAL)
    queue = client.get("/review/api/queue", headers=_bearer(token))
    assert queue.status_code == 200
    key = next(r["report"] for r in queue.json()["reports"] if r["title"] == "US Thyroid")
    report = client.get(f"/review/api/report/{key}", headers=_bearer(token)).json()
    assert len(report["items"]) == 4 and report["signed_off"] is False
    rads = next(i for i in report["items"] if i["group"] == "rads")
    assert "TI-RADS 5" in rads["choices"]
    start, end = rads["span"]
    assert 0 <= start < end <= len(report["text"])
    answer = client.post(
        "/review/api/decide",
        json={"report": key, "items": [rads["key"]], "action": "correct", "value": "TI-RADS 5"},
        headers=_bearer(token),
    )
    assert answer.status_code == 200, answer.text
    rest = [i["key"] for i in report["items"] if i["key"] != rads["key"]]
    answer = client.post(
        "/review/api/decide",
        json={"report": key, "items": rest, "action": "accept"},
        headers=_bearer(token),
    )
    assert answer.status_code == 200 and answer.json()["signed_off"] is not None
    assert not client.cookies  # nothing was set: a bearer call has no session
    bundle = json.loads((settings.outbox / answer.json()["signed_off"]["bundle"]).read_text())
    provenance = bundle["entry"][-1]["resource"]
    assert provenance["agent"][0]["who"] == {"reference": "Practitioner/al", "display": "Amy Lee"}
    decided = client.get(f"/review/api/report/{key}", headers=_bearer(token)).json()
    assert decided["signed_off"] is True
    assert {i["decision"] for i in decided["items"]} == {"accept", "correct"}


def test_a_wrong_bearer_token_is_refused_even_with_a_valid_session(
    token_settings: tuple[ReviewSettings, str],
) -> None:
    settings, token = token_settings
    client = TestClient(review_app(settings), client=LOCAL)
    _login(client)  # jdoe's cookie session
    assert client.get("/review/api/queue").status_code == 200  # the cookie works alone
    username, _, secret = token.rpartition(".")
    for wrong in (f"{username}.{secret[::-1]}", f"jdoe.{secret}", "", "garbage"):
        answer = client.get("/review/api/queue", headers=_bearer(wrong))
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert secret not in answer.text
    basic = client.get("/review/api/queue", headers={"Authorization": f"Basic {token}"})
    assert basic.status_code == 401
    remote = TestClient(review_app(settings), client=("10.1.2.3", 40000))
    assert remote.get("/review/api/queue", headers=_bearer(token)).status_code == 403


def test_the_login_form_takes_a_token_and_the_cookie_session_keeps_its_csrf(
    token_settings: tuple[ReviewSettings, str],
) -> None:
    settings, token = token_settings
    client = TestClient(review_app(settings), client=LOCAL)
    form = client.get("/review/login")
    assert 'name="token"' in form.text and 'name="password"' in form.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/review/login", data={"csrf": csrf, "token": token[:-2]},
                        follow_redirects=False)  # fmt: skip
    assert wrong.headers["location"] == "/review/login?failed=1"
    form = client.get("/review/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/review/login", data={"csrf": csrf, "token": token},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/review/"
    queue = client.get("/review/")
    assert queue.status_code == 200 and "Amy Lee" in queue.text
    key = re.search(r'href="/review/report/([0-9a-f]+)">US Thyroid', queue.text).group(1)  # type: ignore[union-attr]
    page = client.get(f"/review/report/{key}").text
    item = re.search(r'data-key="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    body = {"report": key, "items": [item], "action": "accept"}
    # The session came from a token, but it is a cookie session: CSRF still applies.
    assert client.post("/review/api/decide", json=body).status_code == 403
    session_csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    ok = client.post("/review/api/decide", json=body, headers={"X-CSRF-Token": session_csrf})
    assert ok.status_code == 200


def test_a_token_file_alone_is_enough(tmp_path: Path) -> None:
    build_queue(tmp_path / "queue")
    token = add_token(tmp_path / "tokens", "amy", "Amy Lee")
    settings = ReviewSettings(
        tmp_path / "queue", tmp_path / "state", None, tokens=tmp_path / "tokens"
    )
    client = TestClient(review_app(settings), client=LOCAL)
    form = client.get("/review/login").text
    assert 'name="token"' in form and 'name="password"' not in form
    assert client.get("/review/api/queue", headers=_bearer(token)).status_code == 200


def test_the_cli_writes_a_token_prints_it_once_and_serve_takes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from radlite_fhir.review.cli import add_review_commands, review_settings

    parser = argparse.ArgumentParser(prog="radlite")
    add_review_commands(parser.add_subparsers(dest="command"))
    tokens = tmp_path / "tokens"
    args = parser.parse_args(
        ["review", "add-token", "--reviewer-tokens", str(tokens), "amy", "--name", "Amy Lee"]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("amy.") and token not in tokens.read_text("utf-8")
    assert authenticate_token(load_tokens(tokens), token) is not None
    args = parser.parse_args(
        ["review", "serve", "--queue", str(tmp_path / "q"), "--state", str(tmp_path / "s"),
         "--reviewer-tokens", str(tokens), "--sr-folder", str(tmp_path / "sr1"),
         "--sr-folder", str(tmp_path / "sr2")]
    )  # fmt: skip
    settings = review_settings(args)
    assert settings.reviewers is None and settings.tokens == tokens
    assert settings.sr_search == (tmp_path / "q", tmp_path / "sr1", tmp_path / "sr2")
