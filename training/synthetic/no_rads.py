"""Reports of examinations no RADS system covers: chest radiographs, CT head, MSK, abdominal and
renal ultrasound, spine MRI, and the hard cases, lesion words in an exam outside every table
(a pulmonary nodule on a diagnostic chest CT, a thyroid nodule on a neck CT, a liver
haemangioma in a patient not at risk). Their answer is "No applicable RADS": the model must
learn when a system applies, not to answer it whenever no category is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.synthetic.writer import Writer


@dataclass(frozen=True)
class Exam:
    names: tuple[str, ...]
    histories: tuple[str, ...]
    normal: tuple[str, ...]  # sentences of a normal study
    abnormal: tuple[tuple[str, str], ...]  # (finding sentence, impression with advice)


EXAMS = (
    Exam(
        ("Chest radiograph, PA and lateral", "CXR PA", "XR chest"),
        ("Cough and fever.", "SOB. r/o pneumonia.", "Pre-operative."),
        (
            "The lungs are clear.",
            "No focal consolidation, pleural effusion or pneumothorax.",
            "Heart size is normal.",
        ),
        (
            (
                "Right lower zone consolidation.",
                "Right lower zone pneumonia. Repeat CXR in 6 weeks.",
            ),
            ("Small left pleural effusion.", "Small left effusion."),
            ("Cardiomegaly with upper lobe diversion.", "Findings c/w cardiac failure."),
            (
                "Possible 8 mm nodule projected over the left mid zone, likely a nipple shadow.",
                "Nipple markers and repeat PA view suggested.",
            ),
        ),
    ),
    Exam(
        ("CT head without contrast", "CT brain non-contrast", "Non-contrast CT head"),
        ("Fall, head injury.", "Confusion. r/o bleed.", "Headache."),
        (
            "No intracranial hemorrhage.",
            "No mass effect or midline shift.",
            "Ventricles normal in size.",
        ),
        (
            ("Chronic small vessel ischemic change.", "No acute intracranial abnormality."),
            ("Established left MCA territory infarct.", "Old infarct. No acute change."),
            (
                "Acute right subdural hematoma, 6 mm thick.",
                "Acute subdural hematoma; neurosurgical referral.",
            ),
        ),
    ),
    Exam(
        ("MRI right knee", "MRI knee left"),
        ("Twisting injury.", "Locking, r/o meniscal tear."),
        ("The cruciate and collateral ligaments are intact.", "Articular cartilage preserved."),
        (
            (
                "Complex tear of the posterior horn of the medial meniscus.",
                "Medial meniscal tear; orthopedic review.",
            ),
            (
                "Small joint effusion and bone marrow edema of the lateral femoral condyle.",
                "Bone bruise.",
            ),
        ),
    ),
    Exam(
        ("XR wrist", "Radiograph left wrist, 2 views"),
        ("FOOSH.", "Fall on outstretched hand."),
        ("No fracture or dislocation.",),
        (
            (
                "Undisplaced fracture of the distal radius.",
                "Distal radius fracture; fracture clinic.",
            ),
        ),
    ),
    Exam(
        ("US abdomen", "Ultrasound upper abdomen"),
        ("RUQ pain.", "Deranged LFTs."),
        ("The liver is normal in size and echotexture.", "The common bile duct is not dilated."),
        (
            (
                "The gallbladder contains multiple calculi without wall thickening.",
                "Cholelithiasis without cholecystitis.",
            ),
            (
                "A 12 mm well-defined echogenic liver lesion, likely a hemangioma.",
                "Probable hepatic hemangioma; no follow-up needed in this low-risk patient.",
            ),
            ("Simple 2 cm right renal cyst.", "Incidental simple renal cyst."),
        ),
    ),
    Exam(
        ("CT abdomen and pelvis with contrast", "CT AP"),
        ("RIF pain, r/o appendicitis.", "Abdominal pain."),
        ("Solid organs unremarkable.", "No free fluid or free gas."),
        (
            (
                "The appendix is dilated to 11 mm with periappendiceal fat stranding.",
                "Findings c/w acute appendicitis.",
            ),
            ("Sigmoid diverticulosis without inflammation.", "Diverticulosis."),
        ),
    ),
    Exam(
        ("MRI lumbar spine",),
        ("Low back pain with left sciatica.",),
        ("The conus medullaris is normal.", "Vertebral body heights preserved."),
        (
            (
                "L4/5 disc protrusion with mild canal stenosis.",
                "L4/5 disc protrusion; spinal surgical review.",
            ),
        ),
    ),
    Exam(
        ("CT chest with contrast", "CT thorax with IV contrast"),
        ("Persistent cough.", "Haemoptysis."),
        ("No mediastinal lymphadenopathy.", "No pleural effusion."),
        (
            (
                "6 mm solid nodule in the right upper lobe.",
                "6 mm pulmonary nodule; optional CT at 12 months per Fleischner guidelines.",
            ),
            ("Bronchiectasis in the lower lobes.", "Bronchiectasis."),
        ),
    ),
    Exam(
        ("CT neck with contrast",),
        ("Neck lump.",),
        ("No cervical lymphadenopathy.", "The esophagus is unremarkable."),
        (
            (
                "Incidental 1.2 cm hypodense left thyroid nodule.",
                "Incidental thyroid nodule; dedicated ultrasound if clinically indicated.",
            ),
        ),
    ),
    Exam(
        ("Renal tract ultrasound", "US kidneys"),
        ("Raised creatinine.", "Recurrent UTI."),
        ("Both kidneys are normal in size with no hydronephrosis.",),
        (
            (
                "Mild right hydronephrosis.",
                "Mild right hydronephrosis; correlate with renal function.",
            ),
        ),
    ),
)


def no_rads_report(w: Writer) -> None:
    """One report of an exam outside every RADS table, in the drawn style."""
    exam = w.rng.choice(EXAMS)
    w.say("exam", w.pick(exam.names))
    w.say("history", w.pick(exam.histories))
    if w.rng.random() < 0.3:
        w.say(
            "comparison", w.pick(["Prior study 2022.", "None.", "Previous imaging 6 months ago."])
        )
    findings = list(w.rng.sample(exam.normal, w.rng.randint(1, len(exam.normal))))
    impressions = []
    if w.rng.random() < 0.6:
        finding, impression = w.rng.choice(exam.abnormal)
        findings.insert(w.rng.randint(0, len(findings)), finding)
        impressions.append(impression)
        if w.rng.random() < 0.3:
            impressions.append("No other significant abnormality.")
    else:
        impressions.append(
            w.pick(["No acute abnormality.", "Normal study.", "No significant abnormality."])
        )
    for sentence in findings:
        w.say("findings", sentence)
    if w.rng.random() > 0.1:
        for sentence in impressions:
            w.say("impression", sentence)
