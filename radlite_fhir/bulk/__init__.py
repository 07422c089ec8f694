"""`radlite bulk`: many NDJSON / Bundle shards (a FHIR Bulk Data `$export`) through the same
pipeline as `radlite convert`, spread over a Ray cluster.

Ray is an optional extra (`pip install 'radlite-fhir[ray]'`): nothing in this package imports
it at module level, so `radlite --help` and the rest of the product work without it. The
modules each do one job: `settings` (what a run asks for), `shards` (which files, their
sha256, the checks `convert` makes before reading), `manifest` (which shards are finished),
`work` (one shard's bytes in, output texts and error records out: no Ray), `actor` (the Ray
Data callable that loads the model once), `driver` (Ray Data plan, atomic writes, manifest,
errors.jsonl), `command` (argparse). See docs/bulk.md.
"""

from radlite_fhir.bulk.command import add_bulk_command

__all__ = ["add_bulk_command"]
