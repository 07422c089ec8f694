"""The six RADS systems' reports: draw each lesion's feature record in the table's own terms,
then write it in words (lexicon terms, abbreviations, negations, priors).

A writer returns the lesion records it wrote; the generator asks the product's table for the
category (acr_rules.category), so a label can only come from the features, never from a
phrase. A feature is in a record exactly when the report states it: what the report leaves
unsaid is left to the table's own defaults, as it is for a real report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from radlite_fhir.guidelines import RadsSystem
from training.synthetic import acr_rules
from training.synthetic.lesions import Lesion, Note, write_lesions
from training.synthetic.writer import Part, Writer

SHARED = -1  # a mark that states a feature of every lesion (history: cirrhosis, menopause)
Record = dict[str, Any]


def part(
    w: Writer, field: str, value: Any, label: str, short: list[str], prose: list[str] | None = None
) -> Part:
    return Part(field, value, label, w.pick(short), w.pick(prose or short))


def _years(rng: random.Random) -> str:
    return str(rng.choice([2019, 2020, 2021, 2022, 2023]))


# ---------------------------------------------------------------- ACR TI-RADS
TI_WORDS: dict[str, dict[Any, tuple[list[str], list[str]]]] = {
    "composition": {
        "cystic": (["cystic"], ["cystic", "purely cystic", "entirely cystic"]),
        "spongiform": (["spongiform"], ["spongiform"]),
        "mixed": (
            ["mixed cystic and solid", "mixed"],
            ["mixed cystic and solid", "mixed solid and cystic", "partly cystic"],
        ),
        "solid": (["solid"], ["solid", "entirely solid", "almost completely solid"]),
    },
    "echogenicity": {
        "anechoic": (["anechoic"], ["anechoic"]),
        "hyperechoic": (["hyperechoic"], ["hyperechoic", "hyperechogenic"]),
        "isoechoic": (["isoechoic", "iso"], ["isoechoic", "isoechogenic"]),
        "hypoechoic": (["hypoechoic", "hypoecho"], ["hypoechoic", "hypoechogenic"]),
        "very_hypoechoic": (["very hypoechoic"], ["very hypoechoic", "markedly hypoechoic"]),
    },
    "shape": {
        "wider_than_tall": (["wider-than-tall"], ["wider-than-tall", "wider than tall"]),
        "taller_than_wide": (["taller-than-wide"], ["taller-than-wide", "taller than wide"]),
    },
    "margin": {
        "smooth": (["smooth", "well defined"], ["with smooth margins", "with a smooth margin"]),
        "ill_defined": (
            ["ill-defined"],
            ["with ill-defined margins", "with poorly defined margins"],
        ),
        "lobulated_irregular": (
            ["lobulated", "irregular"],
            ["with lobulated margins", "with irregular margins", "with spiculated margins"],
        ),
        "extrathyroidal_extension": (
            ["extrathyroidal extension"],
            ["with extrathyroidal extension", "with extension through the thyroid capsule"],
        ),
    },
    "echogenic_foci": {
        "none": (
            ["none", "nil"],
            ["with no echogenic foci", "no calcifications", "without echogenic foci"],
        ),
        "comet_tail": (["comet-tail artifacts"], ["with large comet-tail artifacts"]),
        "macrocalcification": (
            ["macrocalcification"],
            ["with macrocalcifications", "with coarse calcification"],
        ),
        "peripheral_rim": (
            ["rim calcification"],
            ["with peripheral rim calcification", "with eggshell calcification"],
        ),
        "punctate": (
            ["punctate echogenic foci", "microcalcifications"],
            ["with punctate echogenic foci", "with microcalcifications"],
        ),
    },
}
TI_LABELS = {
    "composition": "Composition",
    "echogenicity": "Echogenicity",
    "shape": "Shape",
    "margin": "Margin",
    "echogenic_foci": "Echogenic foci",
}


def _draw_nodule(rng: random.Random) -> Record:
    while True:
        composition = rng.choices(["cystic", "spongiform", "mixed", "solid"], (1, 1, 3, 5))[0]
        nodule: Record = {"composition": composition, "size_mm": float(round(rng.uniform(5, 40)))}
        if composition == "cystic":
            if rng.random() < 0.6:
                nodule["echogenicity"] = "anechoic"
        elif composition == "spongiform":
            if rng.random() < 0.3:
                nodule["echogenicity"] = "isoechoic"
        else:
            nodule["echogenicity"] = rng.choices(
                ["hyperechoic", "isoechoic", "hypoechoic", "very_hypoechoic"], (1, 3, 4, 1)
            )[0]
        if composition != "spongiform":
            if rng.random() < 0.7:
                nodule["shape"] = rng.choices(["wider_than_tall", "taller_than_wide"], (4, 1))[0]
            if rng.random() < 0.85:
                nodule["margin"] = rng.choices(list(TI_WORDS["margin"]), (5, 2, 2, 1))[0]
            if rng.random() < 0.85:
                foci = rng.choices(list(TI_WORDS["echogenic_foci"]), (6, 1, 2, 1, 2))[0]
                nodule["echogenic_foci"] = [foci]
                if foci == "macrocalcification" and rng.random() < 0.3:
                    nodule["echogenic_foci"] = [foci, "punctate"]
        if acr_rules.lesion_category(RadsSystem.TI_RADS, nodule) is not None:
            return nodule


def thyroid(w: Writer) -> list[Record]:
    rng = w.rng
    nodules = [_draw_nodule(rng) for _ in range(rng.choices([1, 2, 3], (5, 3, 1))[0])]
    w.say("exam", w.pick(["US thyroid", "Ultrasound of the thyroid and neck", "USS neck/thyroid"]))
    w.say(
        "history",
        w.pick(
            [
                "Palpable neck lump.",
                "Incidental thyroid nodule on CT, r/o suspicious nodule.",
                "Follow-up of known thyroid nodules.",
                "Goitre? Nodules?",
                "Hoarse voice, neck swelling.",
            ]
        ),
    )
    prior = rng.random() < 0.3
    if prior:
        w.say("comparison", f"Ultrasound {_years(rng)}.")
    w.say(
        "findings",
        f"The {w.anat('right lobe')} measures {rng.uniform(40, 60):.0f} x "
        f"{rng.uniform(12, 20):.0f} mm and the {w.anat('left lobe')} {rng.uniform(40, 60):.0f}"
        f" x {rng.uniform(12, 20):.0f} mm. {w.anat('Isthmus')} {rng.uniform(2, 5):.0f} mm.",
    )
    places = rng.sample(
        [f"{s} lobe, {p} pole" for s in ("right", "left") for p in ("upper", "mid", "lower")]
        + ["isthmus"],
        len(nodules),
    )
    lesions = []
    for nodule, place in zip(nodules, places, strict=True):
        parts = [
            Part("size_mm", float(nodule["size_mm"]), "Size", w.size(nodule["size_mm"], 3), "")
        ]
        for name in ("composition", "echogenicity", "shape", "margin"):
            if name in nodule:
                short, prose = TI_WORDS[name][nodule[name]]
                parts.append(part(w, name, nodule[name], TI_LABELS[name], short, prose))
        for focus in nodule.get("echogenic_foci", []):
            short, prose = TI_WORDS["echogenic_foci"][focus]
            parts.append(part(w, "echogenic_foci", focus, "Echogenic foci", short, prose))
        notes: list[Note | str] = []
        if prior:
            before = nodule["size_mm"] * rng.uniform(0.7, 1.0)
            notes.append(
                w.pick(
                    [
                        f"Previously {before / 10:.1f} cm.",
                        f"Measured {before:.0f} mm on the prior study.",
                        "Stable in size c/w prior.",
                    ]
                )
            )
        noun = w.pick(["nodule", "nodule", "lesion", "SOL"])
        lesions.append(Lesion(noun, w.anat(place), tuple(parts), tuple(notes)))
    write_lesions(w, lesions, w.pick(["Nodule", "TIRADS nodule"]))
    w.say(
        "findings",
        w.pick(
            [
                f"No {w.obs('cervical lymphadenopathy', 'absent')}.",
                f"No {w.obs('suspicious cervical lymph nodes', 'absent')}.",
                f"The {w.anat('esophagus')} is noted posterior to the left lobe.",
            ]
        ),
    )
    return nodules


def thyroid_advice(w: Writer, category: str, lesions: list[Record]) -> list[str]:
    size = max(float(n["size_mm"]) for n in lesions)
    fna, follow = {"3": (25, 15), "4": (15, 10), "5": (10, 5)}.get(category, (999, 999))
    head = f"{w.size(size)} dominant thyroid nodule."
    if size >= fna:
        advice = w.pick(["FNA recommended.", "US-guided FNA advised.", "Suggest FNA."])
    elif size >= follow:
        advice = w.pick(
            ["Follow-up ultrasound in 12 months.", "Surveillance US in 1-2 years.", "Annual US."]
        )
    else:
        advice = w.pick(["No FNA or follow-up required.", "No further imaging needed."])
    return [head, advice]


# ---------------------------------------------------------------- Lung-RADS
LOBES = [
    ("right upper lobe", "RUL"),
    ("right middle lobe", "RML"),
    ("right lower lobe", "RLL"),
    ("left upper lobe", "LUL"),
    ("left lower lobe", "LLL"),
]
NODULE_TYPES = {
    "solid": (["solid"], ["solid"]),
    "part_solid": (["part-solid"], ["part-solid", "part solid"]),
    "ground_glass": (["ground-glass", "GGN"], ["ground-glass", "pure ground-glass", "non-solid"]),
}


def lung_screening(w: Writer) -> list[Record]:
    rng = w.rng
    follow_up = rng.random() < 0.5
    w.say(
        "exam",
        w.pick(["LDCT chest (lung cancer screening)", "Low-dose CT thorax, lung screening"]),
    )
    smoker = f"{rng.randint(20, 60)} pack-year {w.pick(['current', 'former'])} smoker"
    if follow_up:
        w.say("history", f"Annual lung cancer screening. {smoker}.")
        w.say("comparison", f"LDCT {w.pick(['12/2023', '01/2024', 'of last year'])}.")
    else:
        w.say("history", f"Baseline lung cancer screening. {smoker}.")
        w.say("comparison", "None.")
    if rng.random() < 0.12:
        nodules: list[Record] = [{"nodule_type": "none"}]
        none = w.pick(["No pulmonary nodules", "No suspicious pulmonary nodule is seen"])
        w.say("findings", w.feat(0, "nodule_type", "none", none) + ".")
    else:
        nodules = [
            _lung_nodule(rng, follow_up) for _ in range(rng.choices([1, 2, 3], (5, 3, 1))[0])
        ]
        lobes = rng.sample(LOBES, len(nodules))
        lesions = [_lung_lesion(w, n, lobe) for n, lobe in zip(nodules, lobes, strict=True)]
        write_lesions(w, lesions, w.pick(["Nodule", "Nodule #"]).rstrip(" #"))
    w.say(
        "findings",
        f"No {w.obs('pleural effusion', 'absent')}. No "
        f"{w.obs('mediastinal lymphadenopathy', 'absent')}.",
    )
    for extra in rng.sample(
        [
            f"Mild {w.obs('centrilobular emphysema')}.",
            f"{w.obs('Coronary artery calcification').capitalize()}.",
            f"Small {w.obs('hiatus hernia')}.",
            f"Patulous {w.anat('esophagus')}.",
        ],
        rng.randint(0, 2),
    ):
        w.say("findings", extra)
    if rng.random() < 0.05:  # v2022 category 0: findings suggestive of infection / inflammation
        said = w.pick(
            [
                "Patchy consolidation with air bronchograms in the right lower lobe",
                "Clustered tree-in-bud opacities in the left lower lobe",
                "New segmental consolidation in the lingula",
            ]
        )
        w.say("findings", w.feat(SHARED, "incomplete", True, said) + ".")
        nodules = [{**n, "incomplete": True} for n in nodules]
    return nodules


def _lung_nodule(rng: random.Random, follow_up: bool) -> Record:
    kind = rng.choices(list(NODULE_TYPES), (6, 2, 2))[0]
    size = {"solid": (3, 22), "part_solid": (4, 25), "ground_glass": (5, 40)}[kind]
    low, high = size
    nodule: Record = {
        "nodule_type": kind,
        "size_mm": round(min(high, low + rng.expovariate(0.2)), 1),
    }
    if kind == "part_solid":
        nodule["solid_component_mm"] = round(rng.uniform(1.5, nodule["size_mm"] * 0.8), 1)
    if kind == "solid" and nodule["size_mm"] < 10 and rng.random() < 0.2:
        nodule["juxtapleural"] = True
    elif kind == "solid" and rng.random() < 0.07:
        nodule["benign_features"] = True
    if follow_up:
        nodule["change"] = rng.choice(["new", "growing", "stable", "stable", "decreased"])
    if rng.random() < 0.08 and kind != "ground_glass":
        nodule["suspicious_features"] = True
    return nodule


def _lung_lesion(w: Writer, nodule: Record, lobe: tuple[str, str]) -> Lesion:
    size = nodule["size_mm"]
    short, prose = NODULE_TYPES[nodule["nodule_type"]]
    parts = [
        Part("size_mm", size, "Mean diameter", f"{size:g} mm", ""),
        part(w, "nodule_type", nodule["nodule_type"], "Type", short, prose),
    ]
    if "solid_component_mm" in nodule:
        solid = nodule["solid_component_mm"]
        parts.append(
            part(
                w,
                "solid_component_mm",
                solid,
                "Solid component",
                [f"{solid:g} mm"],
                [f"with a {solid:g} mm solid component", f"with {solid:g} mm solid part"],
            )
        )
    if nodule.get("juxtapleural"):
        parts.append(
            part(w, "juxtapleural", True, "Perifissural", ["yes"], ["perifissural", "juxtapleural"])
        )
    if nodule.get("benign_features"):
        parts.append(
            part(
                w,
                "benign_features",
                True,
                "Calcification",
                ["benign (central)", "popcorn"],
                ["with benign central calcification", "with popcorn calcification"],
            )
        )
    if nodule.get("suspicious_features"):
        parts.append(part(w, "suspicious_features", True, "Margin", ["spiculated"], ["spiculated"]))
    notes: list[Note | str] = []
    change = nodule.get("change")
    if change:
        before = {
            "growing": size - w.rng.uniform(2, 5),
            "decreased": size + w.rng.uniform(1, 4),
        }.get(change, size)
        words = {
            "new": (["new"], ["new since the prior study", "not present on the prior"]),
            "growing": ([f"increased from {before:.1f} mm"], [f"increased from {before:.1f} mm"]),
            "stable": (["stable"], ["unchanged from the prior", "stable since the prior study"]),
            "decreased": (
                [f"decreased from {before:.1f} mm"],
                [f"smaller, previously {before:.1f} mm"],
            ),
        }[change]
        frame = (
            w.pick(["This is {}.", "It is {}."]) if change in ("new", "stable") else "It has {}."
        )
        if change == "decreased":
            frame = "It is {}."
        notes.append(Note(frame, part(w, "change", change, "Change", *words)))
    name, abbreviation = lobe
    location = w.anat(abbreviation if w.style.terse and w.rng.random() < 0.5 else name)
    return Lesion("nodule", location, tuple(parts), tuple(notes))


def lung_advice(w: Writer, category: str, lesions: list[Record]) -> list[str]:
    return [
        {
            "1": w.pick(["Continue annual screening with LDCT in 12 months.", "Annual LDCT."]),
            "2": w.pick(["Continue annual screening with LDCT in 12 months.", "Annual LDCT."]),
            "3": w.pick(["LDCT in 6 months.", "6-month follow-up LDCT."]),
            "4A": w.pick(["LDCT in 3 months.", "3-month follow-up CT; PET/CT may be considered."]),
            "4B": w.pick(["PET/CT and/or tissue sampling.", "Refer to the lung nodule MDT."]),
            "4X": w.pick(["PET/CT and/or tissue sampling.", "Refer to the lung nodule MDT."]),
            "0": w.pick(["LDCT in 1-3 months after treatment.", "Repeat LDCT in 1-3 months."]),
        }[category]
    ]


# ---------------------------------------------------------------- LI-RADS
def liver(w: Writer) -> list[Record]:
    rng = w.rng
    modality = w.pick(["CT", "MRI"])
    w.say(
        "exam",
        w.pick(
            [
                f"Multiphase {modality} liver",
                f"{modality} abdomen with contrast, liver protocol",
                "Triple-phase CT abdomen" if modality == "CT" else "MRI liver with gadoxetate",
            ]
        ),
    )
    risk = w.pick(
        [
            "Cirrhosis",
            "HCV cirrhosis",
            "Chronic hepatitis B",
            "Alcohol-related cirrhosis",
            "Cirrhosis (NASH)",
        ]
    )
    w.say(
        "history",
        f"{w.feat(SHARED, 'at_risk', True, risk)}. "
        + w.pick(["HCC surveillance.", "New observation on surveillance US.", "Raised AFP."]),
    )
    prior = rng.random() < 0.3
    if prior:
        w.say("comparison", f"{modality} {w.pick(['4', '5', '3'])} months ago.")
    w.say("findings", f"The {w.anat('liver')} is {w.obs('nodular')} in contour.")
    observations = [_liver_record(rng, prior) for _ in range(rng.choices([1, 2], (3, 1))[0])]
    segments = rng.sample(["II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"], len(observations))
    lesions = [_liver_lesion(w, o, s) for o, s in zip(observations, segments, strict=True)]
    write_lesions(w, lesions, w.pick(["Observation", "Obs"]))
    w.say(
        "findings",
        f"{w.anat('Portal vein')} patent. "
        + w.pick([f"No {w.obs('ascites', 'absent')}.", f"Mild {w.obs('splenomegaly')}."]),
    )
    if rng.random() < 0.3:
        w.say("findings", f"{w.obs('Esophageal varices').capitalize()}.")
    return [{**o, "at_risk": True} for o in observations]


def _liver_record(rng: random.Random, prior: bool) -> Record:
    roll = rng.random()
    if roll < 0.1:
        return {"benign": rng.choice(["definitely_benign", "probably_benign"]), "size_mm": 8.0}
    record: Record = {"size_mm": float(rng.randint(6, 45))}
    if roll < 0.14:
        record["tumor_in_vein"] = True
    elif roll < 0.18:
        record["aphe"] = "rim"
        return record
    record["aphe"] = rng.choices(["nonrim", "none"], (7, 3))[0]
    if rng.random() < 0.85:
        record["washout"] = rng.random() < 0.5
    if rng.random() < 0.75:
        record["capsule"] = rng.random() < 0.4
    if prior and rng.random() < 0.4:
        record["threshold_growth"] = True
    return record


LIVER_WORDS: dict[str, dict[Any, tuple[list[str], list[str]]]] = {
    "aphe": {
        "nonrim": (
            ["nonrim", "yes (nonrim)"],
            ["with nonrim APHE", "with nonrim arterial phase hyperenhancement"],
        ),
        "none": (
            ["none", "absent"],
            [
                "with no arterial phase hyperenhancement",
                "without APHE",
                "no arterial hyperenhancement",
            ],
        ),
        "rim": (["rim"], ["with rim APHE", "with rim arterial phase hyperenhancement"]),
    },
    "washout": {
        True: (["yes", "present"], ["with nonperipheral washout", "with portal venous washout"]),
        False: (["no", "absent"], ["without washout", "with no washout"]),
    },
    "capsule": {
        True: (["yes", "present"], ["with an enhancing capsule", "with enhancing capsule"]),
        False: (["no", "absent"], ["without an enhancing capsule", "no capsule"]),
    },
}


def _liver_lesion(w: Writer, record: Record, segment: str) -> Lesion:
    size = record["size_mm"]
    location = w.anat(w.pick([f"segment {segment}", f"seg {segment}"]))
    parts = [Part("size_mm", size, "Size", w.size(size, w.rng.choice([1, 2])), "")]
    notes: list[Note | str] = []
    benign = record.get("benign")
    if benign:
        words = {
            "definitely_benign": (
                ["simple cyst"],
                ["c/w a simple cyst", "in keeping with a simple cyst"],
            ),
            "probably_benign": (
                ["probable hemangioma"],
                ["likely a hemangioma", "probably a small hemangioma"],
            ),
        }[benign]
        parts.append(part(w, "benign", benign, "Nature", *words))
        return Lesion(w.pick(["lesion", "observation"]), location, tuple(parts))
    for name, label in (("aphe", "APHE"), ("washout", "Washout"), ("capsule", "Capsule")):
        if name in record:
            short, prose = LIVER_WORDS[name][record[name]]
            parts.append(part(w, name, record[name], label, short, prose))
    if record.get("threshold_growth"):
        before = size / w.rng.uniform(1.6, 2.2)
        notes.append(
            Note(
                "It has {}.",
                part(
                    w,
                    "threshold_growth",
                    True,
                    "Growth",
                    [f"from {before:.0f} mm, over 50%"],
                    [f"increased from {before:.0f} mm in {w.rng.randint(3, 6)} months"],
                ),
            )
        )
    if record.get("tumor_in_vein"):
        notes.append(
            Note(
                "{}.",
                part(
                    w,
                    "tumor_in_vein",
                    True,
                    "Tumour in vein",
                    ["yes"],
                    ["Enhancing soft tissue extends into the right portal vein"],
                ),
            )
        )
    return Lesion(w.pick(["observation", "lesion", "SOL"]), location, tuple(parts), tuple(notes))


def liver_advice(w: Writer, category: str, lesions: list[Record]) -> list[str]:
    return [
        {
            "1": "Continue routine surveillance ultrasound in 6 months.",
            "2": "Continue routine surveillance ultrasound in 6 months.",
            "3": w.pick(
                ["Repeat or alternative imaging in 3-6 months.", "Repeat MRI in 3-6 months."]
            ),
            "4": w.pick(["MDT discussion; repeat imaging in 3 months or biopsy.", "MDT review."]),
            "5": w.pick(["Refer to the HCC MDT for treatment planning.", "Refer to HCC MDT."]),
            "M": w.pick(["Biopsy recommended.", "Tissue sampling advised; MDT discussion."]),
            "TIV": w.pick(["Urgent MDT discussion.", "Urgent HCC MDT referral."]),
        }[category]
    ]


# ---------------------------------------------------------------- PI-RADS
DWI_WORDS = {
    "normal": (["normal"], ["with no restricted diffusion"]),
    "indistinct": (
        ["indistinct hypointensity"],
        ["with indistinct ADC hypointensity", "with linear/wedge-shaped ADC hypointensity"],
    ),
    "focal_mild_moderate": (
        ["focal mild/moderate restriction"],
        ["with focal mild-to-moderate hypointensity on ADC", "with focal mildly low ADC"],
    ),
    "focal_marked": (
        ["focal marked restriction"],
        [
            "with focal marked hypointensity on ADC and marked hyperintensity on high b-value DWI",
            "with markedly restricted diffusion",
        ],
    ),
}
T2_WORDS = {
    "typical_nodule": (["encapsulated nodule"], ["completely encapsulated on T2W"]),
    "atypical_nodule": (["mostly encapsulated nodule"], ["mostly encapsulated on T2W"]),
    "heterogeneous": (
        ["heterogeneous, obscured margins"],
        ["with heterogeneous T2 signal and obscured margins"],
    ),
    "lenticular": (
        ["lenticular, homogeneously hypointense"],
        ["lenticular and homogeneously hypointense on T2W", "with erased-charcoal T2 appearance"],
    ),
}


def prostate(w: Writer) -> list[Record]:
    rng = w.rng
    w.say("exam", w.pick(["mpMRI prostate", "Multiparametric MRI prostate", "MRI prostate"]))
    w.say(
        "history",
        w.pick([f"PSA {rng.uniform(3, 15):.1f} ng/mL.", "Raised PSA, r/o prostate cancer."]),
    )
    w.say("findings", f"Prostate volume {rng.randint(25, 80)} mL.")
    if rng.random() < 0.1:
        lesions: list[Record] = [{"dwi_finding": "normal"}]
        none = w.pick(["No focal lesion with restricted diffusion", "No focal abnormality on DWI"])
        w.say("findings", w.feat(0, "dwi_finding", "normal", none) + ".")
    else:
        lesions = [_prostate_record(rng) for _ in range(rng.choices([1, 2], (3, 1))[0])]
        write_lesions(w, [_prostate_lesion(w, r) for r in lesions], "Lesion")
    w.say(
        "findings",
        f"{w.anat('Seminal vesicles')} unremarkable. "
        f"No {w.obs('pelvic lymphadenopathy', 'absent')}.",
    )
    return lesions


def _prostate_record(rng: random.Random) -> Record:
    while True:
        zone = rng.choice(["peripheral", "transition"])
        record: Record = {"zone": zone, "size_mm": float(rng.randint(5, 25))}
        if rng.random() < 0.25:
            record["dwi_score"] = rng.randint(1, 5)
        else:
            record["dwi_finding"] = rng.choice(list(DWI_WORDS)[1:])
        if zone == "transition" or rng.random() < 0.3:
            if rng.random() < 0.25:
                record["t2_score"] = rng.randint(1, 5)
            else:
                record["t2_finding"] = rng.choice(list(T2_WORDS))
        if rng.random() < 0.8:
            record["dce"] = rng.choice(["positive", "negative"])
        if rng.random() < 0.1:
            record["epe"] = True
        if acr_rules.lesion_category(RadsSystem.PI_RADS, record) is not None:
            return record


def _prostate_lesion(w: Writer, record: Record) -> Lesion:
    zone = record["zone"]
    side = w.pick(["left", "right"])
    level = w.pick(["apex", "mid gland", "base"])
    words = "PZ" if zone == "peripheral" else "TZ"
    full = f"{zone} zone"
    zone_part = Part(
        "zone",
        zone,
        "Zone",
        w.pick([f"{side} {level} {words}", f"{words}, {side} {level}"]),
        w.pick([f"{side} {full} at the {level}", f"{side} {level} {words}"]),
    )
    size = record["size_mm"]
    parts = [Part("size_mm", size, "Size", w.size(size, w.rng.choice([1, 2])), "")]
    if "t2_score" in record:
        score = record["t2_score"]
        parts.append(part(w, "t2_score", score, "T2W score", [f"{score}"], [f"T2 score {score}"]))
    elif "t2_finding" in record:
        parts.append(
            part(w, "t2_finding", record["t2_finding"], "T2W", *T2_WORDS[record["t2_finding"]])
        )
    if "dwi_score" in record:
        score = record["dwi_score"]
        parts.append(part(w, "dwi_score", score, "DWI score", [f"{score}"], [f"DWI score {score}"]))
    else:
        finding = record["dwi_finding"]
        parts.append(part(w, "dwi_finding", finding, "DWI/ADC", *DWI_WORDS[finding]))
    if "dce" in record:
        positive = record["dce"] == "positive"
        words_dce = (
            (["positive"], ["with focal early enhancement", "DCE positive"])
            if positive
            else (["negative"], ["with no early focal enhancement", "DCE negative"])
        )
        parts.append(part(w, "dce", record["dce"], "DCE", *words_dce))
    if record.get("epe"):
        parts.append(
            part(
                w, "epe", True, "EPE", ["yes"], ["with extraprostatic extension", "with frank EPE"]
            )
        )
    return Lesion(w.pick(["lesion", "focus"]), zone_part, tuple(parts))


def prostate_advice(w: Writer, category: str, lesions: list[Record]) -> list[str]:
    if category in ("1", "2"):
        return [w.pick(["No biopsy required; continue PSA monitoring.", "PSA surveillance."])]
    if category == "3":
        return [w.pick(["Consider PSA density; biopsy per clinical context.", "Discuss at MDT."])]
    return [w.pick(["MRI-targeted biopsy recommended.", "Targeted biopsy advised."])]


# ---------------------------------------------------------------- O-RADS US
ORADS_TYPES = {
    "follicle": (["follicle"], ["follicle", "dominant follicle"]),
    "corpus_luteum": (["corpus luteum"], ["corpus luteum"]),
    "simple_cyst": (["simple cyst"], ["simple cyst", "anechoic simple cyst"]),
    "smooth_nonsimple_cyst": (
        ["unilocular cyst with internal echoes"],
        ["unilocular cyst with internal echoes"],
    ),
    "hemorrhagic_cyst": (["hemorrhagic cyst"], ["hemorrhagic cyst", "cyst with reticular pattern"]),
    "dermoid": (["dermoid"], ["dermoid cyst", "mature cystic teratoma"]),
    "endometrioma": (["endometrioma"], ["endometrioma", "cyst with ground-glass echoes"]),
    "paraovarian_cyst": (["paraovarian cyst"], ["paraovarian cyst"]),
    "hydrosalpinx": (["hydrosalpinx"], ["hydrosalpinx"]),
    "multilocular": (["multilocular cyst"], ["multilocular cyst"]),
    "unilocular_solid": (
        ["unilocular cyst with solid component"],
        ["unilocular cyst with a solid component"],
    ),
    "multilocular_solid": (["multilocular solid"], ["multilocular cyst with solid components"]),
    "solid": (["solid"], ["solid mass", "solid lesion"]),
}


def adnexa(w: Writer) -> list[Record]:
    rng = w.rng
    w.say("exam", w.pick(["Pelvic ultrasound, TA and TV", "US pelvis", "Transvaginal ultrasound"]))
    status = rng.choice(["premenopausal", "postmenopausal"])
    said = {
        "premenopausal": ["Premenopausal", "LMP 2 weeks ago", "Premenopausal, day 12 of cycle"],
        "postmenopausal": ["Postmenopausal", "Post-menopausal for 6 years"],
    }[status]
    reason = w.pick(["Pelvic pain.", "Adnexal mass on examination.", "Raised CA-125."])
    w.say("history", f"{reason} {w.feat(SHARED, 'menopausal_status', status, w.pick(said))}.")
    w.say(
        "findings",
        f"The {w.anat('uterus')} is normal in size. Endometrium {rng.randint(3, 12)} mm.",
    )
    while True:
        records = [_adnexal_record(rng) for _ in range(rng.choices([1, 2], (4, 1))[0])]
        records = [{**r, "menopausal_status": status} for r in records]
        if acr_rules.category(RadsSystem.O_RADS, records) is not None:
            break
    if len(records) == 1 and rng.random() < 0.06:  # v2022 category 0: incomplete evaluation
        size = float(rng.randint(30, 90))
        records.append({"size_mm": size, "incomplete": True, "menopausal_status": status})
    sides = rng.sample(["right ovary", "left ovary", "right adnexa", "left adnexa"], len(records))
    write_lesions(
        w,
        [
            _adnexal_lesion(w, r, s) if "lesion" in r else _unseen_adnexal_lesion(w, r, s)
            for r, s in zip(records, sides, strict=True)
        ],
        "Lesion",
    )
    disease = rng.random() < 0.08
    said_disease = (
        ["Moderate ascites and peritoneal nodules", "Ascites with omental nodularity"]
        if disease
        else ["No free fluid", "No ascites"]
    )
    w.say("findings", w.feat(SHARED, "peritoneal_disease", disease, w.pick(said_disease)) + ".")
    return [{**r, "peritoneal_disease": disease} for r in records]


def _adnexal_record(rng: random.Random) -> Record:
    kind = rng.choice(list(ORADS_TYPES))
    size = round(rng.uniform(15, 30) if kind == "follicle" else rng.uniform(15, 130))
    record: Record = {"lesion": kind, "size_mm": float(size)}
    if kind in ("multilocular", "smooth_nonsimple_cyst"):
        record["inner_wall"] = rng.choice(["smooth", "smooth", "irregular"])
    if kind == "unilocular_solid":
        record["papillary_projections"] = rng.randint(1, 5)
    if kind == "solid":
        record["solid_contour"] = rng.choice(["smooth", "smooth", "irregular"])
    if (
        kind in ("multilocular", "multilocular_solid", "solid", "unilocular_solid")
        or rng.random() < 0.3
    ):
        record["color_score"] = rng.randint(1, 4)
    return record


def _adnexal_lesion(w: Writer, record: Record, side: str) -> Lesion:
    kind = record["lesion"]
    noun = part(w, "lesion", kind, "Type", *ORADS_TYPES[kind])
    size = record["size_mm"]
    parts = [Part("size_mm", size, "Size", w.size(size, w.rng.choice([1, 2, 3])), "")]
    if "inner_wall" in record:
        wall = record["inner_wall"]
        parts.append(
            part(w, "inner_wall", wall, "Inner wall", [wall], [f"with {wall} inner walls"])
        )
    if "papillary_projections" in record:
        n = record["papillary_projections"]
        words = f"{n} papillary projection{'s' if n > 1 else ''}"
        parts.append(
            part(
                w, "papillary_projections", n, "Papillary projections", [str(n)], [f"with {words}"]
            )
        )
    if "solid_contour" in record:
        contour = record["solid_contour"]
        parts.append(
            part(
                w, "solid_contour", contour, "Contour", [contour], [f"with {contour} outer contour"]
            )
        )
    if "color_score" in record:
        score = record["color_score"]
        parts.append(
            part(
                w,
                "color_score",
                score,
                "Color score",
                [str(score)],
                [f"color score {score}", f"CS {score}"],
            )
        )
    return Lesion(noun, w.anat(side), tuple(parts))


def _unseen_adnexal_lesion(w: Writer, record: Record, side: str) -> Lesion:
    """An adnexal lesion the examination could not characterise (O-RADS 0)."""
    size = record["size_mm"]
    limit = part(
        w,
        "incomplete",
        True,
        "Evaluation",
        ["limited, obscured by bowel gas", "incomplete, cannot be assessed"],
        ["partly obscured by bowel gas, not characterised", "which cannot be assessed"],
    )
    parts = (Part("size_mm", size, "Size", w.size(size, w.rng.choice([1, 2])), ""), limit)
    return Lesion(w.pick(["structure", "adnexal structure"]), w.anat(side), parts)


def adnexa_advice(w: Writer, category: str, lesions: list[Record]) -> list[str]:
    return [
        {
            "1": w.pick(["Physiological; no follow-up.", "No follow-up required."]),
            "2": w.pick(["No follow-up needed.", "Optional follow-up US in 8-12 weeks."]),
            "3": w.pick(["Follow-up ultrasound in 6 months or MRI.", "Gynaecology review."]),
            "4": w.pick(["Gynaecology referral; MRI for characterisation.", "MRI pelvis advised."]),
            "5": w.pick(["Urgent gynaecological oncology referral.", "Gynae-oncology MDT."]),
            "0": w.pick(["Repeat transvaginal ultrasound.", "Pelvic MRI to characterise."]),
        }[category]
    ]


# ---------------------------------------------------------------- BI-RADS
def breast(w: Writer) -> list[Record]:
    rng = w.rng
    screening = rng.random() < 0.4
    exam = (
        w.pick(["Screening mammogram, bilateral", "Bilateral screening mammography with DBT"])
        if screening
        else w.pick(["Bilateral diagnostic mammogram", "Targeted breast ultrasound", "US breast"])
    )
    w.say("exam", exam)
    w.say(
        "history",
        w.pick(
            ["Routine screening."]
            if screening
            else ["Palpable lump.", "Focal pain.", "Family history of breast cancer."]
        ),
    )
    if rng.random() < 0.4:
        w.say("comparison", f"Mammograms {_years(rng)} and {int(_years(rng)) - 2}.")
    w.say(
        "findings",
        f"The {w.anat('breasts')} are "
        f"{w.pick(['heterogeneously dense', 'scattered fibroglandular'])}.",
    )
    count = rng.choices([1, 2], (3, 1))[0]
    records = [_breast_record(rng, screening, count) for _ in range(count)]
    if any(r.get("kind") == "none" for r in records):
        records = [{"kind": "none"}]
        none = w.pick(
            [
                "No suspicious mass, calcification or architectural distortion",
                "No mammographic evidence of malignancy",
            ]
        )
        w.say("findings", w.feat(0, "kind", "none", none) + ".")
        return records
    sides = [f"{w.pick(['right', 'left'])} breast at {rng.randint(1, 12)} o'clock" for _ in records]
    write_lesions(
        w, [_breast_lesion(w, r, s) for r, s in zip(records, sides, strict=True)], "Finding"
    )
    w.say("findings", f"No {w.obs('axillary lymphadenopathy', 'absent')}.")
    return records


def _breast_record(rng: random.Random, screening: bool, count: int) -> Record:
    roll = rng.random()
    if roll < 0.1 and count == 1:
        return {"kind": "none"}
    if roll < 0.25:
        return {"kind": "benign"}
    if roll < 0.3:
        return {"known_malignancy": True}
    if screening and roll < 0.38:
        return {"needs_additional_imaging": True}
    if roll < 0.7:
        record: Record = {
            "kind": "mass",
            "shape": rng.choices(["oval", "round", "irregular"], (4, 2, 2))[0],
            "margin": rng.choices(list(BREAST_WORDS["margin"]), (5, 2, 1, 1, 1, 2))[0],
        }
        if rng.random() < 0.3:
            record["orientation"] = rng.choice(["parallel", "not_parallel"])
        if rng.random() < 0.4:
            record["change"] = rng.choice(["new", "increasing", "stable"])
        return record
    if roll < 0.85:
        record = {
            "calc_morphology": rng.choice(
                ["amorphous", "coarse_heterogeneous", "fine_pleomorphic", "fine_linear"]
            )
        }
        if rng.random() < 0.8:
            record["calc_distribution"] = rng.choice(["grouped", "linear", "segmental", "regional"])
        return record
    if roll < 0.92:
        return {
            "kind": "asymmetry",
            "asymmetry_type": rng.choice(["global", "focal", "developing"]),
        }
    return {"kind": "architectural_distortion"}


BREAST_WORDS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "margin": {
        "circumscribed": (["circumscribed"], ["with circumscribed margins", "well circumscribed"]),
        "obscured": (["obscured"], ["with obscured margins"]),
        "microlobulated": (["microlobulated"], ["with microlobulated margins"]),
        "indistinct": (["indistinct"], ["with indistinct margins", "with ill-defined margins"]),
        "angular": (["angular"], ["with angular margins"]),
        "spiculated": (["spiculated"], ["with spiculated margins", "spiculated"]),
    },
    "calc_distribution": {
        "grouped": (["grouped"], ["in a grouped distribution", "grouped"]),
        "linear": (["linear"], ["in a linear distribution"]),
        "segmental": (["segmental"], ["in a segmental distribution"]),
        "regional": (["regional"], ["in a regional distribution"]),
    },
    "change": {
        "new": (["new"], ["new since the prior study"]),
        "increasing": (["increasing"], ["increased in size since the prior"]),
        "stable": (["stable"], ["stable for over 2 years", "unchanged since the prior studies"]),
    },
    "orientation": {
        "parallel": (["parallel"], ["parallel to the skin"]),
        "not_parallel": (["not parallel"], ["not parallel to the skin", "taller-than-wide"]),
    },
}
CALC_WORDS = {
    "amorphous": (["amorphous"], ["amorphous calcifications"]),
    "coarse_heterogeneous": (["coarse heterogeneous"], ["coarse heterogeneous calcifications"]),
    "fine_pleomorphic": (["fine pleomorphic"], ["fine pleomorphic calcifications"]),
    "fine_linear": (["fine linear branching"], ["fine linear branching calcifications"]),
}


def _breast_lesion(w: Writer, record: Record, side: str) -> Lesion:
    location = w.anat(side)
    if record.get("known_malignancy"):
        noun = part(
            w,
            "known_malignancy",
            True,
            "Finding",
            ["biopsy-proven carcinoma"],
            [
                "biopsy-proven carcinoma with marker clip",
                "known biopsy-proven invasive ductal carcinoma",
            ],
        )
        return Lesion(noun, location, ())
    if record.get("needs_additional_imaging"):
        noun = part(
            w,
            "needs_additional_imaging",
            True,
            "Finding",
            ["possible asymmetry, one view only; recall"],
            ["possible asymmetry seen on one view only, requiring further views"],
        )
        return Lesion(noun, location, ())
    kind = record.get("kind")
    if kind == "benign":
        noun = part(
            w,
            "kind",
            "benign",
            "Finding",
            ["intramammary lymph node", "benign calcifications"],
            ["intramammary lymph node", "simple cyst", "oil cyst"],
        )
        return Lesion(noun, location, ())
    if kind == "architectural_distortion":
        noun = part(
            w,
            "kind",
            kind,
            "Finding",
            ["architectural distortion"],
            ["area of architectural distortion"],
        )
        return Lesion(noun, location, ())
    if kind == "asymmetry":
        kinds = {
            "global": "global asymmetry",
            "focal": "focal asymmetry",
            "developing": "developing asymmetry",
        }
        t = record["asymmetry_type"]
        noun = part(w, "asymmetry_type", t, "Finding", [kinds[t]], [kinds[t]])
        return Lesion(noun, location, ())
    parts: list[Part] = []
    notes: list[Note | str] = []
    if kind == "mass":
        noun: str | Part = part(w, "kind", "mass", "Finding", ["mass"], ["mass"])
        parts.append(
            part(w, "shape", record["shape"], "Shape", [record["shape"]], [record["shape"]])
        )
        parts.append(
            part(w, "margin", record["margin"], "Margin", *BREAST_WORDS["margin"][record["margin"]])
        )
        if "orientation" in record:
            o = record["orientation"]
            parts.append(part(w, "orientation", o, "Orientation", *BREAST_WORDS["orientation"][o]))
        plural = False
        size = float(w.rng.randint(5, 30))
        parts.insert(0, Part("size_mm", size, "Size", w.size(size, 2), ""))
    else:
        m = record["calc_morphology"]
        noun = part(w, "calc_morphology", m, "Morphology", *CALC_WORDS[m])
        plural = True
        if "calc_distribution" in record:
            d = record["calc_distribution"]
            parts.append(
                part(
                    w, "calc_distribution", d, "Distribution", *BREAST_WORDS["calc_distribution"][d]
                )
            )
    if "change" in record:
        c = record["change"]
        notes.append(
            Note(
                "This is {}." if c == "new" else "It is {}.",
                part(w, "change", c, "Change", *BREAST_WORDS["change"][c]),
            )
        )
    return Lesion(noun, location, tuple(parts), tuple(notes), plural)


def breast_advice(w: Writer, category: str, lesions: list[Record]) -> list[str]:
    return [
        {
            "0": w.pick(["Recall for further assessment.", "Additional views requested."]),
            "1": w.pick(["Routine screening.", "Return to annual screening."]),
            "2": w.pick(["Routine screening.", "Return to annual screening."]),
            "3": w.pick(["6-month follow-up ultrasound.", "Short-interval follow-up in 6 months."]),
            "4A": w.pick(["US-guided core biopsy recommended.", "Tissue sampling advised."]),
            "4B": w.pick(["Stereotactic biopsy recommended.", "Core biopsy advised."]),
            "4C": w.pick(["Core biopsy recommended.", "Biopsy advised; MDT."]),
            "5": w.pick(["Urgent core biopsy and MDT.", "Biopsy recommended."]),
            "6": w.pick(["Surgical management as planned.", "Proceed with planned treatment."]),
        }[category]
    ]


@dataclass(frozen=True)
class SystemWriter:
    """One system's report writer and its management advice (never the category's words)."""

    system: RadsSystem
    write: Callable[[Writer], list[Record]]
    advice: Callable[[Writer, str, list[Record]], list[str]]
    title: str  # impression subject


SYSTEM_WRITERS = {
    "tirads": SystemWriter(RadsSystem.TI_RADS, thyroid, thyroid_advice, "thyroid"),
    "lungrads": SystemWriter(RadsSystem.LUNG_RADS, lung_screening, lung_advice, "lung"),
    "lirads": SystemWriter(RadsSystem.LI_RADS, liver, liver_advice, "liver"),
    "pirads": SystemWriter(RadsSystem.PI_RADS, prostate, prostate_advice, "prostate"),
    "orads": SystemWriter(RadsSystem.O_RADS, adnexa, adnexa_advice, "adnexal"),
    "birads": SystemWriter(RadsSystem.BI_RADS, breast, breast_advice, "breast"),
}
