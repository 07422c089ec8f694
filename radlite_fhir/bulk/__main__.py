"""`python -m radlite_fhir.bulk INPUT... --out DIR`: `radlite bulk` on its own."""

from radlite_fhir.bulk.command import main

raise SystemExit(main())
