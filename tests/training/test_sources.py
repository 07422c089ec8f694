"""Every loader on a fixture of its published shape, and the shared corpora where present."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.records import ABNORMALITY, IMPRESSION, NER, NLI, RADS, TNM, SourceError
from training.sources import load

FIXTURES = Path(__file__).parent / "fixtures"


def by_id(records):
    return {r.record_id: r for r in records}


def test_openi_gives_impressions_and_no_rads() -> None:
    records = by_id(load("openi", FIXTURES / "openi" / "openi_reports.csv"))
    assert set(records) == {"f1", "f2", "f3", "f4", "f5", "f6"}
    f2 = records["f2"]
    assert f2.targets[IMPRESSION] == "Mild cardiomegaly with small left effusion."
    assert f2.targets[RADS] == "No applicable RADS"
    assert "IMPRESSION" in f2.text and "IMPRESSION" not in f2.findings
    assert TNM not in f2.targets and records["f1"].targets[TNM] == {}
    assert IMPRESSION not in records["f6"].targets  # no impression written


def test_tcga_keeps_known_axes_and_groups_by_patient() -> None:
    records = load("tcga", FIXTURES / "tcga" / "tcga_pathology_tnm.csv")
    first = records[0]
    assert first.targets[TNM] == {"T": "T2a", "N": "N1", "M": "M0"}
    assert records[1].targets[TNM] == {"T": "T1c", "N": "N0"}  # M unknown: absent, not MX
    assert records[2].group == records[3].group == "TCGA-AA-0003"


def test_tcga_refuses_a_row_without_t(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("patient_filename,project_id,T,ajcc_t,ajcc_n,ajcc_m,text\nX.1,P,,,N0,M0,text\n")
    with pytest.raises(SourceError, match=r"t\.csv:2: no usable T"):
        load("tcga", bad)


def test_mtsamples_splits_impression_from_findings_and_reads_stated_rads() -> None:
    records = by_id(load("mtsamples", FIXTURES / "mtsamples" / "mtsamples_radiology.csv"))
    mammo = records["101"]
    assert mammo.targets[RADS] == "BI-RADS 4"
    assert mammo.targets[IMPRESSION].startswith("Suspicious left breast mass.")
    assert "IMPRESSION" not in mammo.findings and "spiculated mass" in mammo.findings
    assert RADS not in records["102"].targets
    assert IMPRESSION not in records["103"].targets


def test_rxl_radset_reads_system_from_report_number() -> None:
    records = by_id(load("rxl-radset", FIXTURES / "rxl_radset"))
    assert records["R001_B_MG"].targets[RADS] == "BI-RADS 4A"
    assert records["R001_Cor_CT"].targets[RADS] == "CAD-RADS 1"
    assert records["R_001_GB_US"].targets[RADS] == "GB-RADS 2"
    assert records["R001_LRTR_CT"].targets[RADS].endswith("Nonviable")
    assert records["R002_L_CT"].targets[RADS] == "LI-RADS 5"
    assert "R003_L_CT" not in records  # metadata without text trains nothing


def test_rxl_radset_refuses_an_unknown_category(tmp_path: Path) -> None:
    (tmp_path / "metadata.csv").write_text(
        "Report_Number,Modality,Profile,RADS_score\nR001_B_MG,MG,1,9\n"
    )
    (tmp_path / "R001_B_MG.txt").write_text("text")
    with pytest.raises(SourceError, match=r"metadata\.csv:2: 'BI-RADS 9'"):
        load("rxl-radset", tmp_path)


def test_nli_pairs() -> None:
    records = load("radnli", FIXTURES / "radnli")
    assert [r.targets[NLI] for r in records] == ["entailment", "contradiction", "neutral"]
    assert records[0].text.startswith("Premise: There is a small left pleural effusion.")
    assert records[0].group == records[1].group != records[2].group  # split by premise


def test_radgraph_both_formats() -> None:
    records = by_id(load("radgraph", FIXTURES / "radgraph"))
    first = records["p10/p10000032/s50414267.txt"]
    assert first.group == "p10000032"
    assert ("observation_absent", "pneumothorax") in first.targets[NER]
    assert ("anatomy", "left") in first.targets[NER]
    second = records["p10/p10000033/s50414268.txt"]  # annotated under labeler_1
    assert second.targets[NER] == [
        ("anatomy", "right lower lobe"),
        ("observation_uncertain", "pneumonia"),
    ]
    xl = load("radgraph-xl", FIXTURES / "radgraph_xl")[0]
    assert xl.targets[NER] == [
        ("anatomy", "Heart"),
        ("observation_present", "size"),
        ("observation_present", "normal"),
        ("observation_absent", "consolidation"),
    ]


def test_mimic_cxr_joins_labels_by_study() -> None:
    records = by_id(load("mimic-cxr", FIXTURES / "mimic_cxr"))
    second = records["s50000002"]
    assert second.group == "p10000002" == records["s50000003"].group
    assert second.targets[IMPRESSION] == "Right lower lobe pneumonia."
    labels = second.targets[ABNORMALITY]
    assert labels["pneumonia"] == "positive" and labels["pleural effusion"] == "uncertain"
    assert labels["edema"] == "negative"
    assert IMPRESSION not in records["s50000003"].targets


def test_merlin_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["study id", "Findings", "Impressions"])
    sheet.append(["AC123", "Liver: normal. Gallbladder: stones.", "Cholelithiasis."])
    sheet.append(["AC124", "", "Blank findings are skipped."])
    book.save(tmp_path / "reports_final.xlsx")
    records = load("merlin", tmp_path)
    assert [(r.record_id, r.targets[IMPRESSION]) for r in records] == [("AC123", "Cholelithiasis.")]
    (tmp_path / "broken.xlsx").write_text("not a workbook")
    with pytest.raises(SourceError, match=r"broken\.xlsx: not an xlsx"):
        load("merlin", tmp_path / "broken.xlsx")


def test_radlabels_maps_to_the_chexpert_findings() -> None:
    records = by_id(load("radlabels", FIXTURES / "radlabels"))
    first = records["synth_0001"].targets[ABNORMALITY]
    assert first["cardiomegaly"] == "positive"
    assert first["pleural effusion"] == "uncertain"
    assert first["support devices"] == "positive"
    assert first["no finding"] == "negative"
    assert records["synth_0002"].targets[ABNORMALITY]["no finding"] == "positive"


def test_unknown_source_and_missing_path() -> None:
    with pytest.raises(ValueError, match="unknown source 'pubmed'"):
        load("pubmed", FIXTURES)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        load("openi", FIXTURES / "nowhere.csv")


def test_shared_corpora_load(shared_data: Path) -> None:
    openi = load("openi", shared_data / "openi_reports.csv")
    tcga = load("tcga", shared_data / "tcga_pathology_tnm.csv")
    mtsamples = load("mtsamples", shared_data / "mtsamples_radiology.csv")
    assert len(openi) > 2500 and len(tcga) == 618
    assert sum(1 for r in tcga if set(r.targets[TNM]) == {"T", "N", "M"}) > 300
    assert sum(1 for r in mtsamples if IMPRESSION in r.targets) > 100
