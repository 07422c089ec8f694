"""Generate radiology reports whose RADS category or TNM stage follows from ACR/AJCC rules.

Each generator draws findings, renders them in varied words and section layouts, and returns a
`Record` whose label the product's tables guarantee (acr_rules.py maps the words to them): the
model must learn the rule, not a phrase. The category is stated in the impression in about
half the reports and withheld in the rest. Entities (anatomy and observations with their
certainty) are recorded as they are written, so NER targets are exact substrings of the text.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from radlite_fhir.coding import load_code_tables
from training.records import NER, RADS, TNM, Record
from training.synthetic import acr_rules

SOURCE = "synthetic"


@dataclass
class Writer:
    """Collects sentences per section and the entities each sentence mentions."""

    rng: random.Random
    sections: dict[str, list[str]] = field(default_factory=dict)
    entities: list[tuple[str, str]] = field(default_factory=list)

    def anat(self, text: str) -> str:
        self.entities.append(("anatomy", text))
        return text

    def obs(self, text: str, status: str = "present") -> str:
        self.entities.append((f"observation_{status}", text))
        return text

    def say(self, section: str, sentence: str) -> None:
        self.sections.setdefault(section, []).append(sentence)

    def pick(self, options: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(list(options))


HEADINGS = {
    "exam": ("EXAMINATION", "EXAM", "Procedure"),
    "history": ("CLINICAL HISTORY", "INDICATION", "History"),
    "technique": ("TECHNIQUE", "Technique"),
    "comparison": ("COMPARISON", "Comparison"),
    "findings": ("FINDINGS", "Findings"),
    "impression": ("IMPRESSION", "Impression", "CONCLUSION"),
}


def render(writer: Writer) -> tuple[str, str]:
    """(whole report, report without its impression) in one of three heading styles."""
    style = writer.rng.randrange(3)
    parts = []
    for key in ("exam", "history", "technique", "comparison", "findings", "impression"):
        if key not in writer.sections:
            continue
        heading = writer.rng.choice(HEADINGS[key])
        body = " ".join(writer.sections[key])
        if key == "findings" and style == 2:
            body = "\n".join(writer.sections[key])
        parts.append(f"{heading.upper()}\n{body}" if style == 2 else f"{heading}: {body}")
    separator = "\n" if style == 1 else "\n\n"
    whole = separator.join(parts)
    without = separator.join(
        p
        for p in parts
        if not p.upper().startswith(tuple(h.upper() for h in HEADINGS["impression"]))
    )
    return whole, without


def stated(writer: Writer, system: str, category: str) -> str:
    forms = (f"{system} {category}", f"{system} category {category}", f"{system}: {category}")
    return writer.pick(forms) + "."


def _record(kind: str, index: int, writer: Writer, targets: dict) -> Record:
    text, without = render(writer)
    present = [(k, t) for k, t in writer.entities if t.lower() in text.lower()]
    targets = {**targets, NER: present}
    return Record(SOURCE, f"{kind}-{index:05d}", f"{kind}-{index:05d}", text, targets, without)


def rads_label(system: str, category: str) -> str:
    found = load_code_tables().rads_category(f"{system} {category}")
    if found is None:
        raise ValueError(f"{system} {category} is not in mappings/rads.yaml")
    return found.label


def thyroid(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    while True:
        features = {
            name: rng.choice(list(values)) for name, values in acr_rules.TIRADS_TERMS.items()
        }
        if features["composition"] in ("cystic", "spongiform"):
            features = {
                **features,
                "echogenicity": "anechoic",
                "shape": "wider-than-tall",
                "margin": "smooth",
                "foci": rng.choice(["none", "comet-tail artifacts"]),
            }
        if acr_rules.tirads_points(features) != 1:
            break
    category = acr_rules.tirads_level(acr_rules.tirads_points(features))
    side = w.pick(["right", "left"])
    pole = w.pick(["upper", "mid", "lower"])
    size = round(rng.uniform(0.5, 3.5), 1)
    w.say(
        "exam", w.pick(["US thyroid", "Ultrasound of the thyroid and neck", "Thyroid ultrasound"])
    )
    w.say(
        "history",
        w.pick(
            [
                "Palpable neck nodule.",
                "Incidental thyroid nodule on CT.",
                "Follow-up of thyroid nodule.",
            ]
        ),
    )
    lobe = w.anat(f"{side} thyroid lobe")
    w.say("findings", f"The {lobe} measures {round(rng.uniform(4, 6), 1)} cm.")
    nodule = w.obs("nodule")
    w.say(
        "findings",
        f"In the {pole} pole there is a {size} cm {features['composition']} {nodule}, "
        f"{w.obs(features['echogenicity'])}, {features['shape']}, with "
        f"{features['margin']} margins.",
    )
    if features["foci"] == "none":
        w.say("findings", f"No {w.obs('echogenic foci', 'absent')}.")
    else:
        w.say("findings", f"There are {w.obs(features['foci'])}.")
    w.say("findings", f"No {w.obs('cervical lymphadenopathy', 'absent')}.")
    advice = {
        "1": "No FNA is needed.",
        "2": "No FNA is needed.",
        "3": "Follow-up ultrasound is suggested if 1.5 cm or larger.",
        "4": "FNA if 1.5 cm or larger; follow-up if 1 cm or larger.",
        "5": "FNA if 1 cm or larger.",
    }[category]
    w.say("impression", f"{size} cm {side} thyroid nodule. {advice}")
    if state:
        w.say("impression", stated(w, "TI-RADS", category))
    tnm = {} if category in ("1", "2") else None
    targets = {RADS: rads_label("TI-RADS", category)}
    if tnm is not None:
        targets[TNM] = tnm
    return _record("tirads", index, w, targets)


def lung_screening(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    kind = rng.choice(["none", "solid", "solid", "part-solid", "ground-glass", "perifissural"])
    size = round(rng.uniform(3, 25) if kind != "ground-glass" else rng.uniform(5, 40), 1)
    solid = round(rng.uniform(2, size * 0.8), 1) if kind == "part-solid" else 0.0
    if kind == "perifissural":
        size = round(rng.uniform(3, 9.5), 1)
    category = acr_rules.lung_rads(kind, size, solid)
    w.say("exam", w.pick(["Low-dose CT chest for lung cancer screening", "LDCT lung screening"]))
    w.say(
        "history",
        w.pick(
            [
                "Baseline screening. 30 pack-year smoker.",
                "Former smoker, baseline lung cancer screening.",
            ]
        ),
    )
    w.say("comparison", "None.")
    lobe = w.pick(
        [
            "right upper lobe",
            "right middle lobe",
            "right lower lobe",
            "left upper lobe",
            "left lower lobe",
        ]
    )
    if kind == "none":
        w.say("findings", f"No {w.obs('pulmonary nodules', 'absent')}.")
    elif kind == "part-solid":
        w.say(
            "findings",
            f"Part-solid {w.obs('nodule')} in the {w.anat(lobe)} measuring "
            f"{size} mm in mean diameter with a {solid} mm solid component.",
        )
    elif kind == "perifissural":
        w.say(
            "findings",
            f"{size} mm smooth triangular {w.obs('perifissural nodule')} along the "
            f"{w.anat('right minor fissure')}.",
        )
    else:
        word = "solid" if kind == "solid" else "ground-glass"
        w.say("findings", f"{size} mm {word} {w.obs('nodule')} in the {w.anat(lobe)}.")
    w.say(
        "findings",
        f"No {w.obs('pleural effusion', 'absent')}. No "
        f"{w.obs('mediastinal lymphadenopathy', 'absent')}.",
    )
    if rng.random() < 0.4:
        w.say("findings", f"Mild {w.obs('centrilobular emphysema')}.")
    advice = {
        "1": "Continue annual screening with LDCT in 12 months.",
        "2": "Continue annual screening with LDCT in 12 months.",
        "3": "LDCT in 6 months.",
        "4A": "LDCT in 3 months; PET/CT may be considered.",
        "4B": "Chest CT with or without contrast, PET/CT and/or tissue sampling.",
    }[category]
    w.say("impression", advice)
    if state:
        w.say("impression", stated(w, "Lung-RADS", category))
    targets = {RADS: rads_label("Lung-RADS", category)}
    if category in ("1", "2"):
        targets[TNM] = {}
    return _record("lungrads", index, w, targets)


def liver(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    size = round(rng.uniform(6, 45))
    aphe, washout, capsule, growth = (rng.random() < p for p in (0.7, 0.5, 0.4, 0.15))
    category = acr_rules.li_rads(size, aphe, washout, capsule, growth)
    modality = w.pick(["CT", "MRI"])
    w.say("exam", f"Multiphase {modality} abdomen with contrast (liver protocol)")
    w.say(
        "history",
        w.pick(
            [
                "Cirrhosis, hepatitis C. HCC surveillance.",
                "Chronic hepatitis B. Observation on surveillance ultrasound.",
            ]
        ),
    )
    w.say("findings", f"The {w.anat('liver')} is {w.obs('nodular')} in contour.")
    segment = w.pick(["II", "III", "IV", "V", "VI", "VII", "VIII"])
    w.say("findings", f"{size} mm {w.obs('observation')} in {w.anat(f'segment {segment}')}.")
    w.say(
        "findings",
        ("It shows " + w.obs("nonrim arterial phase hyperenhancement") + ".")
        if aphe
        else ("No " + w.obs("arterial phase hyperenhancement", "absent") + "."),
    )
    for present, name in ((washout, "nonperipheral washout"), (capsule, "enhancing capsule")):
        w.say(
            "findings", (f"There is {w.obs(name)}." if present else f"No {w.obs(name, 'absent')}.")
        )
    if growth:
        w.say("findings", f"It has {w.obs('grown')} by more than 50% in under 6 months.")
    w.say("findings", f"Patent {w.anat('portal vein')}. No {w.obs('ascites', 'absent')}.")
    advice = {
        "3": "Repeat or alternative imaging in 3-6 months.",
        "4": "Multidisciplinary discussion; repeat imaging in 3 months or biopsy.",
        "5": "Definite HCC; multidisciplinary discussion for treatment.",
    }[category]
    w.say("impression", f"{size} mm segment {segment} observation. {advice}")
    if state:
        w.say("impression", stated(w, "LI-RADS", category))
    return _record("lirads", index, w, {RADS: rads_label("LI-RADS", category)})


DWI_WORDS = {
    1: "no abnormality on ADC or high b-value DWI",
    2: "linear/wedge-shaped hypointensity on ADC",
    3: "focal mild to moderate hypointensity on ADC, isointense on high b-value DWI",
    4: "focal marked hypointensity on ADC and marked hyperintensity on high b-value DWI",
    5: "focal marked hypointensity on ADC and marked hyperintensity on high b-value DWI",
}
T2_WORDS = {
    1: "homogeneous intermediate signal",
    2: "circumscribed hypointense encapsulated nodule",
    3: "heterogeneous signal with obscured margins",
    4: "lenticular homogeneously hypointense lesion",
    5: "lenticular homogeneously hypointense lesion with invasive behavior",
}


def prostate(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    zone = rng.choice(["peripheral", "transition"])
    t2, dwi = rng.randint(1, 5), rng.randint(1, 5)
    # Size separates score 4 from 5 (1.5 cm) for the sequence that decides the category: DWI
    # in the peripheral zone, T2W in the transition zone when it scores 4 or 5.
    deciding = t2 if zone == "transition" and t2 >= 4 else dwi
    large = deciding == 5
    size = round(rng.uniform(1.5, 2.5), 1) if large else round(rng.uniform(0.4, 1.4), 1)
    dce = rng.random() < 0.5
    category = acr_rules.pi_rads(zone, t2, dwi, dce)
    w.say("exam", "Multiparametric MRI prostate")
    w.say("history", f"PSA {round(rng.uniform(3, 15), 1)} ng/mL.")
    w.say("findings", f"Prostate volume {rng.randint(25, 80)} mL.")
    w.say(
        "findings",
        f"{size} cm {w.obs('lesion')} in the {w.anat(f'left {zone} zone')} "
        f"at the mid gland: T2W {T2_WORDS[t2]}; DWI {DWI_WORDS[dwi]}.",
    )
    w.say(
        "findings",
        "Dynamic contrast enhancement: "
        + (f"{w.obs('focal early enhancement')}." if dce else "no focal early enhancement."),
    )
    w.say(
        "findings",
        f"No {w.obs('extraprostatic extension', 'absent')}. "
        f"{w.anat('Seminal vesicles')} are normal.",
    )
    advice = {
        "1": "Clinically significant cancer is highly unlikely.",
        "2": "Clinically significant cancer is unlikely.",
        "3": "Clinically significant cancer is equivocal.",
        "4": "Clinically significant cancer is likely; targeted biopsy recommended.",
        "5": "Clinically significant cancer is highly likely; targeted biopsy recommended.",
    }[category]
    w.say("impression", f"{size} cm {zone} zone lesion. {advice}")
    if state:
        w.say("impression", stated(w, "PI-RADS", category))
    return _record("pirads", index, w, {RADS: rads_label("PI-RADS", category)})


ORADS_LESIONS = {
    "follicle": "simple cyst consistent with a follicle",
    "simple cyst": "simple cyst",
    "hemorrhagic cyst": "cyst with reticular pattern and retractile clot (hemorrhagic cyst)",
    "dermoid cyst": "hyperechoic component with acoustic shadowing (dermoid cyst)",
    "endometrioma": "unilocular cyst with ground-glass echoes (endometrioma)",
    "multilocular smooth": "multilocular cyst with smooth inner walls and no solid component",
    "unilocular with solid component": "unilocular cyst with a solid component",
    "solid smooth": "solid lesion with smooth outer contour",
    "solid irregular": "solid lesion with irregular outer contour",
    "ascites and peritoneal nodules": "solid adnexal lesion with ascites and peritoneal nodules",
}


def adnexa(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    lesion = rng.choice(list(ORADS_LESIONS))
    size = round(rng.uniform(1.5, 13), 1)
    if lesion == "follicle":
        size = round(rng.uniform(1.0, 3.0), 1)
    color = rng.randint(1, 4)
    papillary = rng.randint(1, 5) if lesion == "unilocular with solid component" else 0
    category = acr_rules.o_rads(lesion, size, color, papillary)
    w.say("exam", w.pick(["Pelvic ultrasound, transabdominal and transvaginal", "US pelvis"]))
    w.say(
        "history", w.pick(["Pelvic pain. Premenopausal.", "Adnexal mass on exam. Premenopausal."])
    )
    w.say("findings", f"The {w.anat('uterus')} is normal in size.")
    side = w.pick(["right", "left"])
    text = f"{size} cm {w.obs(ORADS_LESIONS[lesion])} in the {w.anat(f'{side} ovary')}"
    if papillary:
        text += f" with {papillary} papillary projections"
    w.say("findings", f"{text}, color score {color}.")
    if lesion != "ascites and peritoneal nodules":
        w.say("findings", f"No {w.obs('free fluid', 'absent')}.")
    advice = {
        "1": "Normal ovary; no follow-up needed.",
        "2": "Almost certainly benign.",
        "3": "Low risk of malignancy.",
        "4": "Intermediate risk of malignancy.",
        "5": "High risk of malignancy; gynecologic oncology referral.",
    }[category]
    w.say("impression", f"{side.capitalize()} adnexal {lesion}. {advice}")
    if state:
        w.say("impression", stated(w, "O-RADS", category))
    targets = {RADS: rads_label("O-RADS", category)}
    if category in ("1", "2"):
        targets[TNM] = {}
    return _record("orads", index, w, targets)


BREAST_FINDINGS = {
    "0": "a possible asymmetry seen on one view only",
    "1": "no suspicious mass, calcification or architectural distortion",
    "2": "a stable coarse popcorn calcification consistent with a degenerating fibroadenoma",
    "3": "a circumscribed oval mass, new on this baseline, likely a fibroadenoma",
    "4A": "a partially circumscribed mass, likely benign but not classic",
    "4B": "amorphous grouped calcifications",
    "4C": "an irregular mass with indistinct margins",
    "5": "an irregular spiculated mass with fine linear branching calcifications",
    "6": "the biopsy-proven carcinoma with clip in place",
}


def breast(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    category = rng.choice(list(acr_rules.BIRADS_ASSESSMENT))
    exams = ["Bilateral diagnostic mammogram", "Targeted breast ultrasound"]
    if category in ("0", "1", "2"):  # a screening exam ends in 0, 1 or 2
        exams.append("Screening mammogram, bilateral")
    modality = w.pick(exams)
    w.say("exam", modality)
    w.say(
        "history",
        w.pick(
            [
                "Screening.",
                "Palpable lump.",
                "Known left breast cancer."
                if category == "6"
                else "Family history of breast cancer.",
            ]
        ),
    )
    w.say("findings", f"The {w.anat('breasts')} are heterogeneously dense.")
    side = w.pick(["right", "left"])
    finding = BREAST_FINDINGS[category]
    if category == "1":
        w.say("findings", f"There is {finding}.")
    else:
        w.say(
            "findings",
            f"In the {w.anat(f'{side} breast')} at {rng.randint(1, 12)} o'clock "
            f"there is {w.obs(finding)}.",
        )
    w.say("impression", acr_rules.BIRADS_ASSESSMENT[category] + ".")
    if state:
        w.say("impression", stated(w, "BI-RADS", category))
    targets = {RADS: rads_label("BI-RADS", category)}
    if category in ("1", "2", "3"):
        targets[TNM] = {}
    return _record("birads", index, w, targets)


def lung_staging(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
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
    w.say("exam", "CT chest, abdomen and pelvis with contrast")
    w.say("history", "Newly diagnosed non-small cell lung cancer. Staging.")
    w.say("findings", f"{size} cm spiculated {w.obs('mass')} in the {w.anat(lobe)}.")
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
    return _record("lungtnm", index, w, {TNM: {"T": t, "N": n, "M": m}})


NORMAL_EXAMS = [
    ("CT head without contrast", "brain parenchyma", "intracranial hemorrhage"),
    ("Ultrasound abdomen", "gallbladder", "cholelithiasis"),
    ("MRI lumbar spine", "conus medullaris", "disc herniation"),
    ("Chest radiograph, PA and lateral", "lungs", "focal consolidation"),
    ("CT abdomen and pelvis with contrast", "appendix", "appendicitis"),
]


def normal(rng: random.Random, index: int, state: bool) -> Record:
    w = Writer(rng)
    exam, anatomy, absent = rng.choice(NORMAL_EXAMS)
    w.say("exam", exam)
    w.say("history", w.pick(["Pain.", "Trauma.", "Rule out acute process."]))
    w.say("findings", f"The {w.anat(anatomy)} is unremarkable. No {w.obs(absent, 'absent')}.")
    w.say("impression", w.pick(["No acute abnormality.", "Normal examination."]))
    no_rads = load_code_tables().no_applicable_label
    return _record("normal", index, w, {RADS: no_rads, TNM: {}})


GENERATORS: dict[str, Callable[[random.Random, int, bool], Record]] = {
    "tirads": thyroid,
    "lungrads": lung_screening,
    "lirads": liver,
    "pirads": prostate,
    "orads": adnexa,
    "birads": breast,
    "lungtnm": lung_staging,
    "normal": normal,
}


def generate(count: int, seed: int = 0, state_share: float = 0.5) -> list[Record]:
    """`count` reports, cycling through the generators; the category is stated in about
    `state_share` of them. Same seed, same reports."""
    rng = random.Random(seed)
    names = list(GENERATORS)
    return [
        GENERATORS[names[i % len(names)]](rng, i, rng.random() < state_share) for i in range(count)
    ]
