"""Clinician review of the AI results: a page beside the report text, decisions written back.

Everything the product writes is preliminary (status preliminary, AIAST, SR UNVERIFIED). This
package is the one place a person turns a result into clinical data: `worklist` reads the
enriched Bundles of an outbox, `page` renders one report with its evidence spans, `store`
keeps every decision (append-only SQLite), `fhir_out` and `sr_out` write the reviewed
versions beside the untouched originals, `export` turns confirmed labels into training
records. `app.review_router(settings)` mounts it all under `/review` in any FastAPI app.
"""
