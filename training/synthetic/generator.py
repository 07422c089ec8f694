"""Generate radiology reports whose RADS category or TNM stage follows from ACR/AJCC rules.

Each RADS report draws its lesions' feature records in the table's own terms and writes them
in one institution's style (styles.py: heading sets or none, British or American spelling,
terse or verbose, prose / "Observation 1:" blocks / tables, numbered impressions with
management advice, priors, incidental findings, negations). The label is what the product's
table computes from those records (acr_rules.category): the model must learn the table, not a
phrase. The category is stated in about `state_share` of the reports and withheld in the rest.

Exams no RADS system covers (chest radiographs, CT head, MSK, staging CT, incidental nodules
on a diagnostic CT) make up `Mix.no_rads_share` of the reports. Entities (anatomy and
observations with their certainty) are recorded as written, so NER targets are exact
substrings; every feature's words are marked as written, so a feature question's quotation is
an exact substring of the report (RADS_FEATURES target).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from radlite_fhir.coding import load_code_tables
from radlite_fhir.guidelines import RadsSystem
from training.records import NER, RADS, RADS_FEATURES, TNM, Record
from training.synthetic import acr_rules
from training.synthetic.no_rads import no_rads_report
from training.synthetic.styles import draw_style
from training.synthetic.systems import SHARED, SYSTEM_WRITERS, SystemWriter
from training.synthetic.writer import Rendered, Writer, render

SOURCE = "synthetic"

# Ways a radiologist states a category, each read back by radlite_fhir.rules.find_rads.
STATED_FORMS: dict[RadsSystem, tuple[str, ...]] = {
    RadsSystem.TI_RADS: ("ACR TI-RADS TR{c}", "TR{c}", "TI-RADS {c}", "TIRADS {c}"),
    RadsSystem.LI_RADS: ("LR-{c}", "LI-RADS {c}", "LI-RADS category {c}"),
    RadsSystem.LUNG_RADS: ("Lung-RADS {c}", "Lung-RADS v2022 {c}", "Lung-RADS category {c}"),
    RadsSystem.PI_RADS: ("PI-RADS {c}", "PI-RADS v2.1 assessment {c}/5", "PI-RADS {c}/5"),
    RadsSystem.O_RADS: ("O-RADS {c}", "O-RADS US {c}"),
    RadsSystem.BI_RADS: ("BI-RADS {c}", "BI-RADS: {c}", "BI-RADS category {c}"),
}
# Categories after which no malignant tumour is described (the TNM answer "Not applicable").
BENIGN = {
    RadsSystem.TI_RADS: {"1", "2"},
    RadsSystem.LUNG_RADS: {"1", "2"},
    RadsSystem.O_RADS: {"1", "2"},
    RadsSystem.BI_RADS: {"1", "2", "3"},
}
NO_IMPRESSION_SHARE = 0.12


@dataclass(frozen=True)
class Mix:
    """What share of the reports come from exams with no RADS system (all of them carry the
    RADS answer, so this is the share of RADS-task samples answered 'No applicable RADS' from
    the generator), and of those, staging CTs (TNM answers)."""

    no_rads_share: float = 0.35
    staging_share: float = 0.08  # of all reports; counted in the no-RADS share

    def shares(self) -> dict[str, float]:
        rads = (1.0 - self.no_rads_share) / len(SYSTEM_WRITERS)
        staging = min(self.staging_share, self.no_rads_share)
        return {
            **{name: rads for name in SYSTEM_WRITERS},
            "lungtnm": staging,
            "normal": self.no_rads_share - staging,
        }


def rads_label(system: str, category: str) -> str:
    found = load_code_tables().rads_category(f"{system} {category}")
    if found is None:
        raise ValueError(f"{system} {category} is not in mappings/rads.yaml")
    return found.label


def _record(
    kind: str, index: int, w: Writer, rendered: Rendered, targets: dict, ner: bool = True
) -> Record:
    """The record; NER targets only where the writer named every entity it wrote."""
    text = rendered.text
    if ner:
        present = [(k, t) for k, t in w.entities if t.lower() in text.lower()]
        targets = {**targets, NER: present}
    record_id = f"{kind}-{index:05d}"
    return Record(SOURCE, record_id, record_id, text, targets, rendered.without_impression)


def _answers(rendered: Rendered, count: int) -> list[dict[str, Any]]:
    """Each stated feature of each lesion with its quotation (a shared statement, such as the
    history's 'Cirrhosis', states the feature of every lesion)."""
    answers = []
    for stated in rendered.stated:
        lesions = range(count) if stated.lesion == SHARED else [stated.lesion]
        for lesion in lesions:
            answers.append(
                {
                    "lesion": lesion,
                    "field": stated.field,
                    "value": stated.value,
                    "quote": stated.text,
                    "start": stated.start,
                }
            )
    return answers


def _impression(w: Writer, writer: SystemWriter, category: str, lesions: list[dict]) -> None:
    if w.rng.random() < NO_IMPRESSION_SHARE:
        return
    items = writer.advice(w, category, lesions)
    if writer.system is not RadsSystem.TI_RADS:
        subject = writer.title
        many = len(lesions) > 1
        named = f"Multiple {subject} lesions" if many else f"{subject.capitalize()} lesion"
        items.insert(
            0,
            w.pick(
                [
                    f"{named} as described.",
                    "As above.",
                    f"Findings in the {subject} as detailed.",
                ]
            ),
        )
    for item in items:
        w.say("impression", item)


def rads_report(name: str) -> Callable[[random.Random, int, bool], Record]:
    writer = SYSTEM_WRITERS[name]

    def make(rng: random.Random, index: int, state: bool) -> Record:
        w = Writer(rng, draw_style(rng))
        lesions = writer.write(w)
        category = acr_rules.category(writer.system, lesions)
        if category is None:
            raise ValueError(f"{name}: generated lesions the table cannot decide")
        _impression(w, writer, category, lesions)
        if state:
            form = w.pick(STATED_FORMS[writer.system]).format(c=category)
            w.say("impression", f"{form}.")
        rendered = render(w)
        targets: dict[str, Any] = {
            RADS: rads_label(writer.system.value, category),
            RADS_FEATURES: {
                "system": writer.system.value,
                "lesions": lesions,
                "answers": _answers(rendered, len(lesions)),
            },
        }
        if category in BENIGN.get(writer.system, ()):
            targets[TNM] = {}
        return _record(name, index, w, rendered, targets)

    return make


def lung_staging(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng, draw_style(rng))
    size = round(rng.uniform(0.6, 9.0), 1)
    invades = rng.random() < 0.1
    satellite = rng.random() < 0.1
    nodes = rng.choice(list(acr_rules.LUNG_N))
    metastases = rng.sample(
        [
            "contralateral lung nodule",
            "malignant pleural effusion",
            "adrenal metastasis",
            "liver metastases",
            "bone metastases",
        ],
        rng.choice([0, 0, 0, 1, 1, 2]),
    )
    t = acr_rules.lung_t(size, invades, satellite)
    n, m = acr_rules.LUNG_N[nodes], acr_rules.lung_m(metastases)
    lobe = w.pick(["right upper lobe", "right lower lobe", "left upper lobe", "left lower lobe"])
    w.say("exam", w.pick(["CT chest, abdomen and pelvis with contrast", "Staging CT CAP"]))
    w.say("history", "Newly diagnosed non-small cell lung cancer. Staging.")
    w.say("findings", f"{w.size(size * 10)} spiculated {w.obs('mass')} in the {w.anat(lobe)}.")
    if invades:
        w.say("findings", f"The mass {w.obs('invades')} the {w.anat('mediastinum')}.")
    if satellite:
        w.say("findings", f"Separate {w.obs('nodule')} in the same lobe.")
    if nodes == "none":
        w.say("findings", f"No {w.obs('thoracic lymphadenopathy', 'absent')}.")
    else:
        w.say(
            "findings",
            f"Enlarged {nodes} {w.obs('lymph nodes')}, short axis "
            f"{round(rng.uniform(1.1, 2.5), 1)} cm.",
        )
    for metastasis in metastases:
        w.say("findings", f"{w.obs(metastasis).capitalize()}.")
    if not metastases:
        w.say("findings", f"No {w.obs('distant metastases', 'absent')}.")
    w.say(
        "impression",
        f"{lobe.capitalize()} primary lung malignancy"
        + (" with nodal disease" if n != "N0" else "")
        + (" and distant metastases." if m != "M0" else "."),
    )
    if state:
        w.say(
            "impression",
            w.pick(
                [
                    f"Clinical stage {t} {n} {m}.",
                    f"cT{t[1:]} cN{n[1:]} cM{m[1:]}.",
                    f"TNM: {t}{n}{m}.",
                ]
            ),
        )
    w.say("impression", w.pick(["Refer to the lung cancer MDT.", "For thoracic MDT discussion."]))
    no_rads = load_code_tables().no_applicable_label
    targets = {TNM: {"T": t, "N": n, "M": m}, RADS: no_rads}
    return _record("lungtnm", index, w, render(w), targets)


def normal(rng: random.Random, index: int, state: bool) -> Record:
    """An exam no RADS system covers, normal or not (the name is kept for record ids)."""
    w = Writer(rng, draw_style(rng))
    no_rads_report(w)
    no_rads = load_code_tables().no_applicable_label
    return _record("normal", index, w, render(w), {RADS: no_rads, TNM: {}}, ner=False)


GENERATORS: dict[str, Callable[[random.Random, int, bool], Record]] = {
    **{name: rads_report(name) for name in SYSTEM_WRITERS},
    "lungtnm": lung_staging,
    "normal": normal,
}


def schedule(count: int, mix: Mix) -> list[str]:
    """Which generator writes each report: the shares met as closely as whole reports allow
    (largest deficit first), so every generator appears in a small batch and shares are exact."""
    shares = mix.shares()
    made = dict.fromkeys(shares, 0)
    order: list[str] = []
    for i in range(count):
        name = max(shares, key=lambda k: shares[k] * (i + 1) - made[k])
        made[name] += 1
        order.append(name)
    return order


def generate(
    count: int, seed: int = 0, state_share: float = 0.5, mix: Mix | None = None
) -> list[Record]:
    """`count` reports in the mix's shares; the category is stated in about `state_share`
    of them. Same seed, same reports."""
    rng = random.Random(seed)
    return [
        GENERATORS[name](rng, i, rng.random() < state_share)
        for i, name in enumerate(schedule(count, mix or Mix()))
    ]
