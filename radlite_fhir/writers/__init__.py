"""Writers turn `Findings` into output formats; they know nothing of models or inputs.

Which writer makes which format, its suffix and whether it writes one output per input file or
per report: the table in `radlite_fhir.writers.table`, the one place front ends look it up."""
