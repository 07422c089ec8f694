"""The review page over HTTP: `review_router(settings)` for any FastAPI app (`radlite serve`
mounts it), `review_app(settings)` standing alone (`radlite review serve`, the tests).

Guards, in the order a request meets them: loopback clients only unless `allow_remote`; a
session cookie (HttpOnly, SameSite=Strict, Secure behind TLS) from the login form (name and
password, or a reviewer token); on every state change a CSRF token (the session's, in a header
or form field, compared in constant time) and, where the browser sends one, an Origin equal to
the Host. The JSON API (`/api/...`) also takes `Authorization: Bearer <reviewer token>`: such
a request carries no cookie, so nothing a browser sends on its own can make it, and it needs
no CSRF token; a wrong token is a 401, never a fall-back to the cookie. Pages are served with
no-store caching and a Content-Security-Policy that allows only the page's own script.
Error bodies name the rule, never a value from a report.
"""

from __future__ import annotations

import hmac
import json
import secrets
from importlib import resources
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from radlite_fhir.review.auth import Reviewer, authenticate, authenticate_token, new_token
from radlite_fhir.review.page import login_page, queue_page, report_page
from radlite_fhir.review.service import ReviewRefused, ReviewService
from radlite_fhir.review.settings import LOOPBACK, ReviewSettings
from radlite_fhir.review.vocab import Action

SESSION_COOKIE = "radlite_review"
LOGIN_COOKIE = "radlite_review_login"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src "
    "'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make form POSTs send Origin: null
}
MAX_FORM_BYTES = 10_000
MAX_DECISION_BYTES = 200_000


def _script() -> bytes:
    return (resources.files("radlite_fhir.review") / "static" / "review.js").read_bytes()


class Caller(NamedTuple):
    """Who makes a request: the reviewer, and the session's CSRF token (None: a bearer call,
    which carries no cookie)."""

    reviewer: Reviewer
    csrf: str | None


class _Guard:
    """Loopback, session, bearer and CSRF checks shared by the routes."""

    def __init__(self, settings: ReviewSettings, service: ReviewService) -> None:
        self.settings = settings
        self.service = service

    def client_allowed(self, request: Request) -> bool:
        host = request.client.host if request.client else ""
        return self.settings.allow_remote or host in LOOPBACK

    def session(self, request: Request) -> tuple[Reviewer, str] | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        found = self.service.store.session(token)
        reviewer = self.service.identity(found.reviewer) if found else None
        if found is None or reviewer is None:
            return None
        return reviewer, found.csrf

    async def caller(self, request: Request) -> Caller | None:
        """The bearer token's reviewer when the request has an Authorization header (a wrong
        one: None, whatever cookie comes with it), else the cookie session's."""
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            # The KDF run off the event loop: a stream of wrong tokens must not stall pages.
            reviewer = await run_in_threadpool(self.service.bearer, token.strip())
            return Caller(reviewer, None) if reviewer else None
        found = self.session(request)
        return Caller(*found) if found else None

    def same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            return False
        site = request.headers.get("sec-fetch-site")
        return site in (None, "same-origin", "none")

    def cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.settings.prefix,
            httponly=True,
            samesite="strict",
            secure=self.settings.secure_cookie,
        )


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status, headers=HEADERS)


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status, headers=HEADERS)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def review_router(settings: ReviewSettings, service: ReviewService | None = None) -> APIRouter:
    """The review routes under `settings.prefix`. Reads the reviewer list now: a missing or
    empty list stops start-up (ConfigError)."""
    service = service or ReviewService(settings)
    guard = _Guard(settings, service)
    prefix = settings.prefix
    router = APIRouter(prefix=prefix, include_in_schema=False)
    forbidden = _error(403, "the review page answers loopback clients only (allow_remote)")
    cross_site = _error(403, "the request comes from another origin")

    def login_redirect() -> RedirectResponse:
        return RedirectResponse(f"{prefix}/login", 303, headers=HEADERS)

    @router.get("/static/review.js")
    async def script() -> Response:
        return Response(_script(), media_type="text/javascript", headers=HEADERS)

    @router.get("/login")
    async def login_form(request: Request, failed: int = 0) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        token = new_token()
        response = _html(
            login_page(prefix, token, bool(failed), bool(service.reviewers), bool(service.tokens))
        )
        guard.cookie(response, LOGIN_COOKIE, token, 600)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        if not guard.same_origin(request):
            return cross_site
        form = await _form(request)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
            return _error(403, "the login form's CSRF token does not match")
        if form.get("token"):  # the KDF off the event loop, as for bearer calls
            reviewer = await run_in_threadpool(authenticate_token, service.tokens, form["token"])
        else:
            reviewer = await run_in_threadpool(
                authenticate, service.reviewers, form.get("username", ""), form.get("password", "")
            )
        if reviewer is None:
            return RedirectResponse(f"{prefix}/login?failed=1", 303, headers=HEADERS)
        token, csrf = new_token(), secrets.token_urlsafe(32)
        service.store.open_session(token, reviewer.username, csrf, settings.session_ttl_s)
        response = RedirectResponse(f"{prefix}/", 303, headers=HEADERS)
        guard.cookie(response, SESSION_COOKIE, token, int(settings.session_ttl_s))
        response.delete_cookie(LOGIN_COOKIE, path=prefix)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        found = guard.session(request)
        form = await _form(request)
        if found is None or not hmac.compare_digest(form.get("csrf", ""), found[1]):
            return _error(403, "not logged in, or the CSRF token does not match")
        service.store.close_session(request.cookies.get(SESSION_COOKIE, ""))
        response = login_redirect()
        response.delete_cookie(SESSION_COOKIE, path=prefix)
        return response

    @router.get("/")
    async def queue(request: Request) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        found = guard.session(request)
        if found is None:
            return login_redirect()
        reviewer, csrf = found
        return _html(
            queue_page(prefix, reviewer.name, csrf, service.queue(), settings.low_confidence)
        )

    @router.get("/next")
    async def next_report(request: Request, after: str | None = None) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        if guard.session(request) is None:
            return login_redirect()
        following = service.next_open(after)
        target = f"{prefix}/report/{following.key}" if following else f"{prefix}/"
        return RedirectResponse(target, 303, headers=HEADERS)

    @router.get("/report/{key}")
    async def report(request: Request, key: str) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        found = guard.session(request)
        if found is None:
            return login_redirect()
        reviewer, csrf = found
        item = service.worklist.get(key)
        if item is None:
            return _error(404, "no such report in the review queue")
        decisions = service.store.current(key)
        choices = {i.key: service.choices(i) for i in item.items}
        signed = key in service.store.signed()
        page = report_page(
            prefix, reviewer.name, csrf, item, decisions, choices, settings.low_confidence, signed
        )
        return _html(page)

    def unauthorized(request: Request) -> JSONResponse:
        if "authorization" in request.headers:
            answer = _error(401, "the bearer token is not a reviewer's")
            answer.headers["WWW-Authenticate"] = 'Bearer realm="radlite review"'
            return answer
        return _error(401, "log in first")

    @router.get("/api/queue")
    async def api_queue(request: Request) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        if await guard.caller(request) is None:
            return unauthorized(request)
        rows = [
            {
                "report": r.key,
                "title": r.title,
                "file": r.path.name,
                "results": len(r.items),
                "flagged": len(r.flagged(settings.low_confidence)),
                "signed_off": done,
            }
            for r, done in service.queue()
        ]
        return JSONResponse({"reports": rows}, headers=HEADERS)

    @router.get("/api/report/{key}")
    async def api_report(request: Request, key: str) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        if await guard.caller(request) is None:
            return unauthorized(request)
        item = service.worklist.get(key)
        if item is None:
            return _error(404, "no such report in the review queue")
        return JSONResponse(service.describe(item), headers=HEADERS)

    @router.post("/api/decide")
    async def decide(request: Request) -> Response:
        if not guard.client_allowed(request):
            return forbidden
        caller = await guard.caller(request)
        if caller is None:
            return unauthorized(request)
        reviewer, csrf = caller
        if csrf is not None:  # a cookie session: the browser's request must be the page's
            if not guard.same_origin(request):
                return cross_site
            if not hmac.compare_digest(request.headers.get("x-csrf-token", ""), csrf):
                return _error(403, "the CSRF token does not match")
        body = await request.body()
        if len(body) > MAX_DECISION_BYTES:
            return _error(413, "the decision is over its size limit")
        try:
            data: Any = json.loads(body)
            action = Action(data["action"])
            keys = [str(k) for k in data["items"]]
            value = data.get("value")
            report_key = str(data["report"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "a decision needs report, items (a list) and action")
        if not keys or (value is not None and not isinstance(value, str)):
            return _error(400, "items must not be empty and value must be text")
        try:
            outcome = service.decide(report_key, keys, action, value, reviewer)
        except ReviewRefused as exc:
            return _error(409, str(exc))
        answer: dict[str, Any] = {"decided": outcome.decided, "signed_off": None, "next": None}
        if outcome.signoff is not None:
            following = service.next_open(report_key)
            answer["signed_off"] = {
                "bundle": outcome.signoff.bundle.name,
                "sr": outcome.signoff.sr.name if outcome.signoff.sr else None,
                "posted": outcome.signoff.posted,
            }
            answer["next"] = f"{prefix}/report/{following.key}" if following else f"{prefix}/"
        return JSONResponse(answer, headers=HEADERS)

    return router


def review_app(settings: ReviewSettings) -> FastAPI:
    """The review page alone (no model): `radlite review serve` and the browser test."""
    app = FastAPI(title="radlite-fhir review", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(review_router(settings))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{settings.prefix}/", 303)

    return app
