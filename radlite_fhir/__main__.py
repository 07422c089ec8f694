"""`python -m radlite_fhir` is the `radlite` command (for environments without console scripts)."""

from radlite_fhir.cli import main

raise SystemExit(main())
