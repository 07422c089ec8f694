"""Server-rendered HTML of the review: the queue, one report, the login form.

No template engine and no build step: strings and `html.escape`. The report text is cut at
every span boundary into segments, each a `<mark>` naming the results that rest on it
(`data-items`), so overlapping spans (a RADS statement inside the findings that decide it)
stay correct. Spans of kind "model-input" (the whole section the model read) are not marked:
they would paint the report; the result says which characters it read instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from itertools import pairwise

from radlite_fhir.review.store import Decision
from radlite_fhir.review.vocab import PAST, Group
from radlite_fhir.review.worklist import Item, ReviewReport

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#23395d;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center}
header a{color:#fff}header .who{margin-left:auto}
main{display:grid;grid-template-columns:minmax(0,1.1fr) minmax(0,1fr);gap:1rem;padding:1rem}
.text{white-space:pre-wrap;background:#fff;border:1px solid #d0d7de;padding:1rem;
 font:14px/1.6 ui-monospace,monospace;max-height:85vh;overflow:auto}
mark{background:#fff3b0;border-bottom:2px solid #e0b000;cursor:pointer}
mark.hl{background:#ffb3b3;border-color:#c00}
.results{max-height:85vh;overflow:auto}
section h2{font-size:1rem;margin:.8rem 0 .3rem}
ul.items{list-style:none;padding:0;margin:0}
li.item{background:#fff;border:1px solid #d0d7de;border-left:5px solid #8c959f;padding:.4rem .6rem;
 margin:.25rem 0;cursor:pointer}
li.item.focus{outline:3px solid #0969da}
li.item.hl{background:#fff0f0}
li.item.flag{border-left-color:#cf222e}
li.item[data-state=accept]{border-left-color:#1a7f37;opacity:.75}
li.item[data-state=correct]{border-left-color:#9a6700;opacity:.75}
li.item[data-state=reject]{border-left-color:#57606a;opacity:.55;text-decoration:line-through}
.label{font-weight:600}.meta{color:#57606a;font-size:.85em}
.badge{display:inline-block;font-size:.75em;padding:0 .4em;border-radius:3px;background:#eaeef2}
.badge.gen{background:#ddf4ff;color:#0550ae}.badge.stated{background:#dafbe1;color:#116329}.badge.flag{background:#ffebe9;color:#a40e26}
.features{margin:.2rem 0 0 1rem;padding:0;font-size:.9em}
.correct{display:none;margin-top:.3rem}li.item.correcting .correct{display:block}
.keys{font-size:.85em;color:#57606a}kbd{border:1px solid #8c959f;border-radius:3px;padding:0 .25em}
table.queue{border-collapse:collapse;margin:1rem;background:#fff}
table.queue td,table.queue th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
form.login{margin:3rem auto;max-width:20rem;background:#fff;padding:1rem;border:1px solid #d0d7de}
form.login input{display:block;width:100%;margin:.3rem 0 .8rem;box-sizing:border-box}
"""

GROUP_TITLES = {
    Group.RADS: "RADS",
    Group.TNM: "TNM",
    Group.IMPRESSION: "Impression",
    Group.ENTITY: "Entities",
}
ENTITY_TITLES = {
    "anatomy": "Anatomy",
    "observation_present": "Observations, present",
    "observation_absent": "Observations, absent",
    "observation_uncertain": "Observations, uncertain",
}


def _doc(title: str, body: str, prefix: str, csrf: str | None = None, script: bool = False) -> str:
    meta = f'<meta name="csrf-token" content="{escape(csrf)}">' if csrf else ""
    js = f'<script src="{prefix}/static/review.js" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{meta}<style>{STYLE}</style>{js}</head>"
        f"<body>{body}</body></html>"
    )


def _header(prefix: str, who: str, csrf: str, extra: str = "") -> str:
    return (
        f'<header><strong>radlite review</strong><a href="{prefix}/">Queue</a>{extra}'
        f'<span class="who">{escape(who)}</span>'
        f'<form method="post" action="{prefix}/logout"><input type="hidden" name="csrf" '
        f'value="{escape(csrf)}"><button>Log out</button></form></header>'
    )


def login_page(
    prefix: str, csrf: str, failed: bool, passwords: bool = True, tokens: bool = False
) -> str:
    """The login form: name and password (reviewer list), a reviewer token (token file), or
    both as two forms on one page, each with the login CSRF token."""
    message = '<p role="alert">Not accepted.</p>' if failed else ""
    hidden = f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
    forms = []
    if passwords:
        forms.append(
            f'<form class="login" method="post" action="{prefix}/login"><h1>Review login</h1>'
            f"{message}{hidden}"
            '<label>Name<input name="username" autocomplete="username" required autofocus>'
            '</label><label>Password<input name="password" type="password" '
            'autocomplete="current-password" required></label><button>Log in</button></form>'
        )
    if tokens:
        forms.append(
            f'<form class="login" method="post" action="{prefix}/login">'
            f"<h1>{'Or with a' if passwords else 'Review login with a'} reviewer token</h1>"
            f"{'' if passwords else message}{hidden}"
            '<label>Token<input name="token" type="password" autocomplete="off" required'
            f"{'' if passwords else ' autofocus'}></label>"
            "<button>Log in with token</button></form>"
        )
    return _doc("Review login", "".join(forms), prefix)


def queue_page(
    prefix: str,
    who: str,
    csrf: str,
    rows: Iterable[tuple[ReviewReport, bool]],
    floor: float,
) -> str:
    lines = []
    for report, done in rows:
        flagged = len(report.flagged(floor))
        lines.append(
            f'<tr><td><a href="{prefix}/report/{report.key}">{escape(report.title)}</a></td>'
            f"<td>{escape(report.path.name)}</td><td>{len(report.items)}</td>"
            f"<td>{flagged or ''}</td><td>{'signed off' if done else 'open'}</td></tr>"
        )
    body = (
        _header(prefix, who, csrf)
        + '<table class="queue"><tr><th>Report</th><th>File</th><th>Results</th>'
        "<th>Flagged</th><th>State</th></tr>" + "".join(lines) + "</table>"
    )
    return _doc("Review queue", body, prefix, csrf)


def _segments(report: ReviewReport) -> str:
    """The report text with a <mark> per segment that some result's span covers."""
    text = report.text
    spans: list[tuple[int, int, str]] = []
    for item in report.items:
        if item.span and item.span.kind != "model-input":
            spans.append((item.span.start, item.span.end, item.key))
        for number, feature in enumerate(item.features):
            if feature.span and feature.span.kind != "model-input":
                spans.append((feature.span.start, feature.span.end, f"{item.key}.f{number}"))
    spans = [(max(0, s), min(len(text), e), k) for s, e, k in spans if s < e]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    starts: dict[int, list[tuple[int, str]]] = {}
    for start, end, key in spans:
        starts.setdefault(start, []).append((end, key))
    active: list[tuple[int, str]] = []
    out = []
    for left, right in pairwise(cuts):
        active = [a for a in active if a[0] > left] + starts.get(left, [])
        piece = escape(text[left:right])
        if active:
            keys = " ".join(dict.fromkeys(k for _, k in active))
            out.append(f'<mark data-items="{keys}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def _item(item: Item, decision: Decision | None, choices: list[str], floor: float) -> str:
    low = item.confidence is not None and item.confidence < floor
    classes = "item flag" if item.conflict or low else "item"
    badges = []
    if item.group is Group.IMPRESSION:
        badges.append('<span class="badge gen">generated by AI</span>')
    if not item.ai_asserted:
        # Copied from the signed report by the rules, no model asked: no AI label to confirm.
        badges.append('<span class="badge stated">stated in the report</span>')
    if item.conflict:
        badges.append('<span class="badge flag">conflict</span>')
    if low:
        badges.append('<span class="badge flag">low confidence</span>')
    meta = [escape(item.origin or "")]
    if item.confidence is not None:
        meta.append(f"confidence {item.confidence:.2f}")
    if item.span and item.span.kind == "model-input":
        meta.append(f"read characters {item.span.start}–{item.span.end}")
    features = "".join(
        f'<li data-feature="{item.key}.f{n}">{escape(f.name)}: <b>{escape(f.value)}</b></li>'
        for n, f in enumerate(item.features)
    )
    notes = "".join(f'<div class="meta">{escape(n)}</div>' for n in item.notes)
    if item.group is Group.IMPRESSION:
        editor = (
            f'<textarea rows="4" cols="50" aria-label="corrected impression">'
            f"{escape(item.label)}</textarea>"
        )
    elif choices:
        # The current label is preselected: an entity's is its kind, not its words.
        current = item.system if item.group is Group.ENTITY else item.label
        options = "".join(
            f'<option value="{escape(c)}"{" selected" if c == current else ""}>'
            f"{escape(c.replace('_', ' '))}</option>"
            for c in choices
        )
        editor = f'<select aria-label="corrected value" size="6">{options}</select>'
    else:
        editor = ""
    correct = (
        f'<div class="correct">{editor}<div class="keys"><kbd>Enter</kbd> save '
        "<kbd>Esc</kbd> cancel</div></div>"
        if editor
        else ""
    )
    state = f' data-state="{decision.action.value}"' if decision else ""
    shown = PAST[decision.action] if decision else ""
    value = f" → {escape(decision.value)}" if decision and decision.value else ""
    return (
        f'<li class="{classes}" data-key="{item.key}" tabindex="-1"{state}>'
        f'<span class="label">{escape(item.label)}</span> {"".join(badges)}'
        f' <span class="meta">{escape(item.heading)}</span>'
        f'<div class="meta">{" · ".join(m for m in meta if m)}</div>'
        f'<div class="meta decision">{shown}{value}</div>'
        + (f'<ul class="features">{features}</ul>' if features else "")
        + notes
        + correct
        + "</li>"
    )


def report_page(
    prefix: str,
    who: str,
    csrf: str,
    report: ReviewReport,
    decisions: dict[str, Decision],
    choices: dict[str, list[str]],
    floor: float,
    signed: bool,
) -> str:
    ordered = report.ordered(floor)
    flagged = [i for i in ordered if i.conflict or (i.confidence or 1.0) < floor]
    sections = []
    if flagged:
        sections.append(("Check first: conflicts and low confidence", flagged))
    rest = [i for i in ordered if i not in flagged]
    for group in (Group.RADS, Group.TNM, Group.IMPRESSION):
        members = [i for i in rest if i.group is group]
        if members:
            sections.append((GROUP_TITLES[group], members))
    for kind, title in ENTITY_TITLES.items():
        members = [i for i in rest if i.group is Group.ENTITY and i.system == kind]
        if members:
            sections.append((title, members))
    others = [i for i in rest if not any(i in members for _, members in sections)]
    if others:
        sections.append(("Other", others))
    results = "".join(
        f'<section><h2>{escape(title)}</h2><ul class="items">'
        + "".join(_item(i, decisions.get(i.key), choices.get(i.key, []), floor) for i in members)
        + "</ul></section>"
        for title, members in sections
    )
    state = "signed off" if signed else f"{len(decisions)} of {len(report.items)} decided"
    keys = (
        '<p class="keys"><kbd>a</kbd> accept <kbd>A</kbd>/<kbd>Enter</kbd> accept all '
        "<kbd>c</kbd> correct <kbd>r</kbd> reject <kbd>j</kbd>/<kbd>k</kbd> move "
        "<kbd>n</kbd> next report</p>"
    )
    body = (
        _header(prefix, who, csrf, f"<span>{escape(report.title)}</span>")
        + f'<main data-report="{report.key}" data-prefix="{prefix}" '
        f'data-signed="{"1" if signed else "0"}">'
        f'<div><div class="meta" id="state">{state}</div>'
        f'<div class="text" id="report-text">{_segments(report)}</div></div>'
        f'<div class="results">{keys}{results}</div></main>'
    )
    return _doc(f"Review: {report.title}", body, prefix, csrf, script=True)
