"""TNM: RadLite's n/m answers, the structured answer, explicit strings winning per axis."""

from __future__ import annotations

import pytest

from radlite_fhir.report import Origin, Status
from radlite_fhir.tasks.staging import (
    STAGE_GROUP,
    StagingTask,
    find_stage_groups,
    parse_m_answer,
    parse_n_answer,
    parse_structured,
)
from tests.helpers import answers, report


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (" Negative", ("N0", "negative")),
        (" Positive. N staging: N2", ("N2", "positive")),
        (" Positive", (None, "positive")),
        ("N_staging: N2\n\nThe patient", ("N2", None)),
        ("N1", ("N1", None)),
        ("unsure", (None, None)),
    ],
)
def test_radlite_n_answers(answer: str, expected: tuple) -> None:
    assert parse_n_answer(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"), [(" M0", "M0"), ("M1", "M1"), ("cM1a", "M1a"), ("no metastases", None)]
)
def test_radlite_m_answers(answer: str, expected: str | None) -> None:
    assert parse_m_answer(answer) == expected


def test_structured_answers() -> None:
    assert parse_structured("T2b N1 M0") == {"T": "T2b", "N": "N1", "M": "M0"}
    assert parse_structured("Not applicable") == {}
    assert parse_structured("T9 N1 M0") is None


def test_radlite_positive_without_category_is_not_coded() -> None:
    results = StagingTask().interpret(
        report("HISTORY: Lung carcinoma.\nFINDINGS:\nBulky nodes."),
        answers(n_staging=" Positive", m_staging=" M0"),
    )
    by_axis = {r.kind: r for r in results}
    assert by_axis["N"].status is Status.UNPARSEABLE
    assert "category not stated" in by_axis["N"].detail["reason"]
    assert (by_axis["M"].status, by_axis["M"].value) == (Status.CODED, "cM0")
    assert "T" not in by_axis  # RadLite has no T prompt; no statement in the text


def test_explicit_string_wins_per_axis() -> None:
    text = "IMPRESSION:\nRadiologic stage cT2b N1 M0."
    results = StagingTask().interpret(report(text), answers(tnm_staging="T3 N1 M1"))
    by_axis = {r.kind: r for r in results}
    assert {a: (r.value, r.origin) for a, r in by_axis.items()} == {
        "T": ("cT2b", Origin.TEXT),
        "N": ("cN1", Origin.MODEL_AND_TEXT),
        "M": ("cM0", Origin.TEXT),
    }
    assert by_axis["M"].conflict == "model answered 'M1'; the report states 'cM0'"


def test_pathologic_string_keeps_its_prefix_and_x_is_not_coded() -> None:
    results = StagingTask().interpret(
        report("Pathology: pT3N0M1."), answers(tnm_staging="TX NX MX")
    )
    assert [r.value for r in results] == ["pT3", "pN0", "pM1"]
    results = StagingTask().interpret(
        report("FINDINGS:\nNo tumour."), answers(tnm_staging="TX NX MX")
    )
    assert results == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IMPRESSION:\nStage IIIA non-small cell lung cancer.", ("cIIIA", "Stage IIIA")),
        ("Clinical stage IIB.", ("cIIB", "Clinical stage IIB")),
        ("AJCC stage IIIC, cT3 N3 M0.", ("cIIIC", "AJCC stage IIIC")),
        ("Pathologic stage group IV.", ("pIV", "Pathologic stage group IV")),
        ("pStage IA2.", ("pIA2", "pStage IA2")),
        ("Pathology: pT3N0M1, stage IV.", ("pIV", "stage IV")),  # beside a pathologic TNM
        ("Stage IIIa adenocarcinoma.", ("cIIIA", "Stage IIIa")),
        ("Stage IV A disease.", ("cIVA", "Stage IV A")),
        ("Stage 0is.", ("c0is", "Stage 0is")),
    ],
)
def test_a_stated_stage_group_is_coded_as_stated(text: str, expected: tuple) -> None:
    [result] = [r for r in StagingTask().interpret(report(text), {}) if r.kind == STAGE_GROUP]
    assert (result.value, result.evidence.text) == expected
    assert (result.origin, result.status, result.model) == (Origin.TEXT, Status.CODED, None)


@pytest.mark.parametrize(
    "text",
    [
        "FIGO stage IIIA endometrial carcinoma.",  # another staging system
        "FIGO (2009 classification) stage grouping: IB2.",
        "Ann Arbor stage II.",
        "Stage IV lymphoma.",  # TNM does not stage it
        "Stage IV chronic kidney disease.",
        "Stage II pressure ulcer over the sacrum.",
        "Tanner stage II.",
        "No stage IV disease.",  # negated
        "Stage II-III.",  # a range
        "Stage IIIA/B.",
        "ypStage IIA after neoadjuvant therapy.",  # post-therapy
        "T Stage: 2 N Stage: 0 M Stage: 0",  # the axes, not a group
        "cT3 N3 M0.",  # never computed from the categories
        "stage i",
    ],
)
def test_what_is_not_a_stated_stage_group(text: str) -> None:
    assert find_stage_groups(text) == []
    assert [r for r in StagingTask().interpret(report(text), {}) if r.kind == STAGE_GROUP] == []


def test_the_impression_stage_group_wins_and_the_model_is_never_asked_for_it() -> None:
    text = "HISTORY:\nStage IIA breast cancer.\nIMPRESSION:\nNew liver lesions: stage IV."
    results = StagingTask().interpret(report(text), answers(tnm_staging="T2 N1 M1"))
    [group] = [r for r in results if r.kind == STAGE_GROUP]
    assert group.value == "cIV" and group.raw_answer is None
    assert {r.kind for r in results} == {"T", "N", "M", STAGE_GROUP}


def test_a_model_category_on_a_report_that_names_no_malignancy_is_not_coded() -> None:
    # radlite-mini answered "cT4, cM0" on the bundled thyroid nodule ultrasound: TNM stages a
    # cancer, and this report has none to stage.
    thyroid = "FINDINGS:\nRight lobe 1.6 cm solid hypoechoic nodule, smooth margins.\n"
    assert StagingTask().interpret(report(thyroid), answers(tnm_staging="T4 N0 M0")) == []
    denied = "FINDINGS:\nLung nodule 5 mm. No evidence of malignancy elsewhere.\n"
    assert StagingTask().interpret(report(denied), answers(tnm_staging="T1a N0 M0")) == []
    staged = "HISTORY: Staging, known left lung adenocarcinoma.\nFINDINGS:\n2.5 cm mass.\n"
    results = StagingTask().interpret(report(staged), answers(tnm_staging="T1c N0 M0"))
    assert [(r.value, r.origin) for r in results] == [
        ("cT1c", Origin.MODEL),
        ("cN0", Origin.MODEL),
        ("cM0", Origin.MODEL),
    ]


def test_a_cancer_screening_examination_names_no_cancer_to_stage() -> None:
    # The bundled lung screening CT drew "cN0, cM0" from radlite-mini: the screening looks for a
    # cancer no one has found, so its model categories are not coded; a known cancer's are.
    for text in (
        "EXAM: Low-dose CT chest for lung cancer screening.\nFINDINGS:\n9 mm solid nodule.\n",
        "INDICATION: Screening for lung cancer.\nFINDINGS:\n6 mm solid nodule.\n",
    ):
        assert StagingTask().interpret(report(text), answers(tnm_staging="T1b N0 M0")) == []
    known = "HISTORY: Known lung cancer, restaging.\nFINDINGS:\n2 cm mass.\n"
    assert len(StagingTask().interpret(report(known), answers(tnm_staging="T1b N0 M0"))) == 3


def test_a_stated_category_is_coded_whatever_the_report_names() -> None:
    results = StagingTask().interpret(report("IMPRESSION:\nT2 N0 M0."), answers())
    assert [r.value for r in results] == ["cT2", "cN0", "cM0"]
