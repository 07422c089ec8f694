"""FHIR output: schema-valid resources, deterministic identity, honest handling of non-results."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.report import Evidence, Findings, Origin, Status, TaskResult
from radlite_fhir.writers.fhir import DERIVED_FROM_TARGETS, NotEnrichable, reference_type, render
from tests.helpers import MODEL, report

TEXT = "FINDINGS:\nIrregular mass.\nIMPRESSION:\nBI-RADS 4B. cT2 N1 M0."


def _findings() -> Findings:
    source = report(TEXT)
    span = TEXT.index("BI-RADS 4B")
    results = (
        TaskResult(
            task="rads",
            kind="rads",
            value="BI-RADS 4B",
            status=Status.CODED,
            origin=Origin.TEXT,
            evidence=Evidence(span, span + 10, "BI-RADS 4B"),
            raw_answer="BI-RADS 3",
            model=MODEL,
            conflict="model answered 'BI-RADS 3'; the report states 'BI-RADS 4B'",
        ),
        TaskResult(
            task="staging",
            kind="N",
            value="cN1",
            status=Status.CODED,
            origin=Origin.MODEL_AND_TEXT,
            model=MODEL,
            item_key="N",
        ),
        TaskResult(
            task="staging",
            kind="M",
            value=None,
            status=Status.UNPARSEABLE,
            origin=Origin.MODEL,
            raw_answer="maybe",
            model=MODEL,
            item_key="M",
        ),
        TaskResult(
            task="impression",
            kind="impression",
            value="Suspicious mass.",
            status=Status.CODED,
            origin=Origin.MODEL,
            model=MODEL,
            evidence=Evidence(10, 25, TEXT[10:25], kind="model-input"),
        ),
        TaskResult(
            task="ner",
            kind="entity:anatomy",
            value="heart",
            status=Status.UNGROUNDED,
            origin=Origin.MODEL,
            model=MODEL,
            item_key="anatomy:heart",
        ),
        TaskResult(
            task="rads",
            kind="rads",
            value=None,
            status=Status.NOT_APPLICABLE,
            origin=Origin.MODEL,
            model=MODEL,
        ),
    )
    return Findings(report=source, results=results)


def _bundle(findings: Findings, recorded: str = "2026-11-23T00:00:00+00:00") -> dict:
    return json.loads(render([findings], "bundle", recorded=recorded))


# The entries of `_bundle(_findings())`: the model card and the prompt template, the Device,
# four Observations, the Provenance.
CARD, PROMPT, DEVICE = 0, 1, 2
OBSERVATIONS = slice(3, 7)


def test_every_resource_and_the_bundle_validate_against_the_r4_schema() -> None:
    bundle = _bundle(_findings())
    assert schema_errors(bundle) == []
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == [
        "DocumentReference",
        "DocumentReference",
        "Device",
        "Observation",
        "Observation",
        "Observation",
        "Observation",
        "Provenance",
    ]


def test_observation_shape() -> None:
    entries = _bundle(_findings())["entry"]
    rads = entries[OBSERVATIONS][0]["resource"]
    assert rads["status"] == "preliminary"
    assert rads["meta"]["security"][0]["code"] == "AIAST"
    assert rads["category"][0]["coding"][0]["code"] == "imaging"
    assert rads["subject"] == {"reference": "Patient/p1"}
    assert "derivedFrom" not in rads  # R4 allows no DiagnosticReport there; no study known
    assert rads["device"] == {"reference": entries[DEVICE]["fullUrl"]}
    assert {"system": "http://snomed.info/sct"}.items() <= rads["code"]["coding"][1].items()
    assert rads["valueCodeableConcept"]["coding"][0]["code"] == "MA.II.A.5.4B"
    span = next(x for x in rads["extension"] if x["url"].endswith("evidence-span"))
    assert {"url": "text", "valueString": "BI-RADS 4B"} in span["extension"]
    assert "BI-RADS 3" in rads["note"][0]["text"]
    assert entries[OBSERVATIONS][0]["request"]["method"] == "PUT"
    assert entries[OBSERVATIONS][0]["request"]["url"].startswith("Observation?identifier=")


def test_tnm_follows_mcode_and_unparseable_is_absent_not_coded() -> None:
    entries = _bundle(_findings())["entry"]
    n_stage, m_stage = (e["resource"] for e in entries[OBSERVATIONS][1:3])
    assert n_stage["code"]["coding"][0]["code"] == "399534004"
    assert n_stage["method"]["coding"][0]["code"] == "897275008"
    assert n_stage["valueCodeableConcept"]["text"] == "cN1"
    assert "valueCodeableConcept" not in m_stage
    assert m_stage["dataAbsentReason"]["coding"][0]["code"] == "error"
    assert "'maybe'" in m_stage["note"][0]["text"]


def test_impression_is_loinc_valuestring_with_offsets_only() -> None:
    impression = _bundle(_findings())["entry"][OBSERVATIONS][3]["resource"]
    assert impression["code"]["coding"][0]["code"] == "19005-8"
    assert impression["valueString"] == "Suspicious mass."
    span = next(x for x in impression["extension"] if x["url"].endswith("evidence-span"))
    assert [p["url"] for p in span["extension"]] == ["start", "end", "kind"]


def test_provenance_points_at_every_observation_and_the_source() -> None:
    entries = _bundle(_findings())["entry"]
    provenance = entries[-1]["resource"]
    assert [t["reference"] for t in provenance["target"]] == [
        e["fullUrl"] for e in entries[OBSERVATIONS]
    ]
    assert provenance["entity"] == [
        {"role": "source", "what": {"reference": "DiagnosticReport/t1"}},
        {"role": "derivation", "what": {"reference": entries[CARD]["fullUrl"]}},
        {"role": "derivation", "what": {"reference": entries[PROMPT]["fullUrl"]}},
    ]
    assert provenance["agent"][0]["who"] == {"reference": entries[DEVICE]["fullUrl"]}


def test_identity_is_deterministic_and_changes_with_input_or_model() -> None:
    first = _bundle(_findings(), recorded="2026-01-01T00:00:00+00:00")
    again = _bundle(_findings(), recorded="2026-06-01T00:00:00+00:00")
    urls = [e["request"]["url"] for e in first["entry"]]
    assert urls == [e["request"]["url"] for e in again["entry"]]
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    other_model = replace(MODEL, sha256="cd" * 32)
    changed = Findings(
        report=_findings().report,
        results=tuple(replace(r, model=other_model) for r in _findings().results),
    )
    assert set(urls[OBSERVATIONS]).isdisjoint(
        e["request"]["url"] for e in _bundle(changed)["entry"]
    )


def test_ndjson_uses_literal_ids_and_references() -> None:
    lines = [json.loads(line) for line in render([_findings()], "ndjson").splitlines()]
    card, device, observation = lines[CARD], lines[DEVICE], lines[OBSERVATIONS.start]
    assert observation["device"] == {"reference": f"Device/{device['id']}"}
    [link] = [x for x in device["extension"] if x["url"].endswith("modelCardDescription")]
    assert link["valueReference"] == {"reference": f"DocumentReference/{card['id']}"}
    assert lines[-1]["target"][0] == {"reference": f"Observation/{observation['id']}"}
    assert all(schema_errors(resource) == [] for resource in lines)


def _enriched(findings: Findings) -> tuple[dict, list[dict]]:
    bundle = json.loads(render([findings], "enriched", "2026-11-23T00:00:00+00:00"))
    assert schema_errors(bundle) == []
    entries = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert len(entries) == 1
    return entries[0], bundle["entry"]


def test_enriched_report_equals_the_original_but_for_the_appended_elements() -> None:
    from radlite_fhir.readers import read_path
    from tests.conftest import SAMPLES

    results = _findings().results
    for sample in sorted(SAMPLES.glob("*.json")):
        for source in read_path(sample, 10_000_000).reports:
            original = source.source_resource
            entry, entries = _enriched(Findings(report=source, results=results))
            enriched = entry["resource"]
            assert {k: v for k, v in enriched.items() if k not in ("result", "meta")} == {
                k: v for k, v in original.items() if k not in ("result", "meta")
            }, sample
            kept = original.get("result", [])
            assert enriched["result"][: len(kept)] == kept
            observations = [
                e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "Observation"
            ]
            assert [r["reference"] for r in enriched["result"][len(kept) :]] == observations
            meta = dict(original.get("meta", {}))
            tags = meta.pop("tag", [])
            assert {k: v for k, v in enriched["meta"].items() if k != "tag"} == meta
            assert enriched["meta"]["tag"][: len(tags)] == tags
            assert enriched["meta"]["tag"][-1]["code"] == "ai-enriched"
            assert entry["request"]["url"] == f"DiagnosticReport/{original['id']}"


def test_enriched_update_is_version_aware_and_needs_an_identity() -> None:
    base = _findings()
    resource = {
        "resourceType": "DiagnosticReport",
        "id": "r7",
        "meta": {"versionId": "3"},
        "status": "final",
        "code": {"text": "CT chest"},
        "conclusion": "Mass.",
    }
    entry, _ = _enriched(replace(base, report=replace(base.report, source_resource=resource)))
    assert entry["request"] == {"method": "PUT", "url": "DiagnosticReport/r7", "ifMatch": 'W/"3"'}
    anonymous = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    by_identifier = {**anonymous, "identifier": [{"system": "urn:ris", "value": "A1"}]}
    entry, _ = _enriched(replace(base, report=replace(base.report, source_resource=by_identifier)))
    assert entry["request"] == {"method": "PUT", "url": "DiagnosticReport?identifier=urn:ris|A1"}
    with pytest.raises(NotEnrichable, match="no id and no identifier"):
        render([replace(base, report=replace(base.report, source_resource=anonymous))], "enriched")


LR = (
    "History: cirrhosis.\nFINDINGS:\nSegment 7: 24 mm observation with nonrim arterial phase "
    "hyperenhancement, nonperipheral washout and an enhancing capsule.\nIMPRESSION:\nLR-4.\n"
)


def _guideline_findings(text: str) -> Findings:
    from radlite_fhir.tasks.rads import RadsTask

    source = report(text, exam="MRI liver")
    return Findings(report=source, results=tuple(RadsTask().interpret(source, {})))


def test_guideline_features_are_components_with_their_spans() -> None:
    findings = _guideline_findings(LR.replace("IMPRESSION:\nLR-4.\n", ""))
    bundle = json.loads(render([findings], "bundle"))
    [observation] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    origin = next(x for x in observation["extension"] if x["url"].endswith("result-origin"))
    assert origin["valueCode"] == "guideline-computed"
    assert observation["valueCodeableConcept"]["text"] == "LI-RADS 5"
    by_code = {c["code"]["coding"][0]["code"]: c for c in observation["component"]}
    assert by_code["size_mm"]["valueQuantity"] == {
        "value": 24.0,
        "unit": "mm",
        "system": "http://unitsofmeasure.org",
        "code": "mm",
    }
    assert by_code["washout"]["valueBoolean"] is True
    assert by_code["aphe"]["valueCodeableConcept"]["text"] == "nonrim"
    for component in observation["component"]:
        span = {
            e["url"]: next(iter(v for k, v in e.items() if k.startswith("value")))
            for e in component["extension"][0]["extension"]
        }
        assert findings.report.text[span["start"] : span["end"]] == span["text"]
    assert any("Computed by ACR LI-RADS" in n["text"] for n in observation["note"])
    assert schema_errors(bundle) == []


def test_a_contradicted_statement_gets_its_own_discordance_observation() -> None:
    bundle = json.loads(render([_guideline_findings(LR)], "bundle"))
    observations = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    assert len(observations) == 2
    flag = next(o for o in observations if o["code"]["coding"][0]["code"] == "rads-discordance")
    assert flag["valueCodeableConcept"]["text"].startswith("Findings support LI-RADS 5")
    assert flag["component"][0]["valueCodeableConcept"]["text"] == "LI-RADS 4"
    assert len({o["identifier"][0]["value"] for o in observations}) == 2


def _derived_from(findings: Findings) -> list[list[dict]]:
    entries = _bundle(findings)["entry"]
    return [
        e["resource"].get("derivedFrom", [])
        for e in entries
        if e["resource"]["resourceType"] == "Observation"
    ]


def test_derived_from_names_only_targets_r4_allows() -> None:
    base = _findings()
    study_uid = "1.2.840.99.1"
    by_uid = replace(base, report=replace(base.report, study_uid=study_uid))
    logical = {
        "type": "ImagingStudy",
        "identifier": {"system": "urn:dicom:uid", "value": f"urn:oid:{study_uid}"},
    }
    assert _derived_from(by_uid) == [[logical]] * 4
    resource = {
        "resourceType": "DiagnosticReport",
        "id": "t1",
        "status": "final",
        "code": {"text": "CT"},
        "imagingStudy": [
            {"reference": "ImagingStudy/s9"},
            {"reference": "urn:uuid:5b1f0c7e-6a2f-4c1e-9d0b-1f2e3d4c5b6a"},  # bundle-local
        ],
    }
    literal = replace(by_uid, report=replace(by_uid.report, source_resource=resource))
    assert _derived_from(literal) == [[{"reference": "ImagingStudy/s9"}]] * 4
    document = {"type": "DocumentReference", "identifier": {"value": "urn:oid:1.2.3"}}
    sr_like = replace(base, report=replace(base.report, source_reference=document))
    assert _derived_from(sr_like) == [[document]] * 4
    provenance = _bundle(sr_like)["entry"][-1]["resource"]
    assert provenance["entity"][0] == {"role": "source", "what": document}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ({"reference": "DiagnosticReport/r1"}, "DiagnosticReport"),
        ({"reference": "https://ehr.example/fhir/ImagingStudy/s1/_history/2"}, "ImagingStudy"),
        ({"reference": "urn:uuid:5b1f0c7e-6a2f-4c1e-9d0b-1f2e3d4c5b6a"}, None),
        ({"type": "DocumentReference", "identifier": {"value": "x"}}, "DocumentReference"),
        ({"identifier": {"value": "x"}}, None),
    ],
)
def test_reference_type(reference: dict, expected: str | None) -> None:
    assert reference_type(reference) == expected
    assert "DiagnosticReport" not in DERIVED_FROM_TARGETS


AIT = "http://hl7.org/fhir/uv/aitransparency"


def test_model_device_and_provenance_follow_the_ai_transparency_profiles() -> None:
    entries = _bundle(_findings())["entry"]
    device, provenance = entries[DEVICE]["resource"], entries[-1]["resource"]
    assert device["meta"]["profile"] == [f"{AIT}/StructureDefinition/AI-Device"]
    ai_type = {"system": f"{AIT}/CodeSystem/AIdeviceTypeCS", "code": "Artificial-Intelligence"}
    assert device["type"]["coding"] == [ai_type]
    kind, card = device["extension"]
    assert kind["url"] == f"{AIT}/StructureDefinition/aitransparency.AIKind"
    assert card["url"] == f"{AIT}/StructureDefinition/aitransparency.modelCardDescription"
    assert card["valueReference"] == {"reference": entries[CARD]["fullUrl"]}
    assert kind["valueCodeableConcept"]["coding"][0]["code"] == "Large-Language-Models"
    assert device["identifier"][0]["value"] == MODEL.sha256
    assert provenance["meta"]["profile"] == [f"{AIT}/StructureDefinition/AI-Provenance"]
    assert provenance["reason"][0]["coding"][0]["code"] == "AIAST"
    [agent] = provenance["agent"]
    assert agent["role"] == [{"coding": [ai_type]}]  # fixed exactly by the profile
    assert agent["type"]["coding"][0]["code"] == "assembler"


def test_explicit_statements_alone_claim_no_ai_profile() -> None:
    bundle = json.loads(render([_guideline_findings(LR)], "bundle"))
    provenance = bundle["entry"][-1]["resource"]
    assert provenance["resourceType"] == "Provenance"
    assert "meta" not in provenance and "reason" not in provenance
    assert "role" not in provenance["agent"][0]


def test_model_confidence_uses_the_ai_confidence_extension() -> None:
    base = _findings()
    results = (replace(base.results[1], confidence=0.87654321),)
    [observation] = [
        e["resource"]
        for e in _bundle(replace(base, results=results))["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]
    by_url = {x["url"]: x for x in observation["extension"]}
    assert by_url[f"{AIT}/StructureDefinition/AIconfidence"]["valueDecimal"] == 0.8765


def test_a_stated_pathologic_category_gets_the_pathologic_snomed_and_loinc_codes() -> None:
    base = _findings()
    result = replace(base.results[1], kind="T", value="pT3", item_key="T")
    [observation] = [
        e["resource"]
        for e in _bundle(replace(base, results=(result,)))["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]
    assert [c["code"] for c in observation["code"]["coding"]] == ["384625004", "21899-0"]
    assert observation["method"]["coding"][0]["code"] == "897275008"  # AJCC 8th edition
    assert "meta" not in observation or "profile" not in observation["meta"]


def _observations(findings: Findings) -> list[dict]:
    return [
        e["resource"]
        for e in _bundle(findings)["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]


def test_aiast_marks_what_a_model_or_our_tables_asserted_not_a_copied_statement() -> None:
    from radlite_fhir.tasks.rads import RadsTask

    stated = report("IMPRESSION:\nBI-RADS 4B.\n", exam="Mammogram")
    [copied] = _observations(Findings(stated, tuple(RadsTask().interpret(stated, {}))))
    origin = next(x for x in copied["extension"] if x["url"].endswith("result-origin"))
    assert origin["valueCode"] == "explicit-statement"
    assert "meta" not in copied  # the radiologist asserted it; the rules copied it
    [computed] = _observations(_guideline_findings(LR.replace("IMPRESSION:\nLR-4.\n", "")))
    assert [s["code"] for s in computed["meta"]["security"]] == ["AIAST"]
    # A statement a model also answered (agreeing or overruled) names the model Device.
    for observation in _observations(_findings()):
        assert [s["code"] for s in observation["meta"]["security"]] == ["AIAST"]


def test_the_rules_agent_says_what_the_rules_did() -> None:
    stated = report("IMPRESSION:\nBI-RADS 4B.\n", exam="Mammogram")
    from radlite_fhir.tasks.rads import RadsTask

    copied = _bundle(Findings(stated, tuple(RadsTask().interpret(stated, {}))))
    computed = _bundle(_guideline_findings(LR.replace("IMPRESSION:\nLR-4.\n", "")))
    assert copied["entry"][-1]["resource"]["agent"][0]["who"]["display"].endswith(
        "rules (explicit statements, no model)"
    )
    assert computed["entry"][-1]["resource"]["agent"][0]["who"]["display"].endswith(
        "rules (explicit statements and ACR decision tables, no model)"
    )


def test_a_stated_stage_group_gets_mcodes_codes_and_no_profile() -> None:
    from radlite_fhir.tasks.staging import StagingTask

    for text, codes, value, members in [
        (
            "IMPRESSION:\nLung cancer, cT3 N3 M0, clinical stage IIIC.",
            ["399537006", "21908-9"],
            ["1222806003", "cIIIC"],  # SNOMED where mCODE's examples give it
            ["cT3", "cN3", "cM0"],  # the stated categories beside it: hasMember
        ),
        ("Pathologic stage IIA, cT2 N0 M0.", ["399588009", "21902-2"], ["pIIA"], []),
    ]:
        source = report(text)
        bundle = _bundle(Findings(source, tuple(StagingTask().interpret(source, {}))))
        by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
        [group] = [
            o
            for o in by_url.values()
            if o["resourceType"] == "Observation"
            and o["code"]["coding"][0]["code"] in ("399537006", "399588009")
        ]
        assert [c["code"] for c in group["code"]["coding"]] == codes
        assert [c["code"] for c in group["valueCodeableConcept"]["coding"]] == value
        assert group["method"]["coding"][0]["code"] == "897275008"
        assert "meta" not in group  # copied from the report: no AI label, no mCODE profile
        assert "focus" not in group
        assert [
            by_url[m["reference"]]["valueCodeableConcept"]["text"]
            for m in group.get("hasMember", [])
        ] == members  # a clinical TNM is not a member of a pathologic stage group
