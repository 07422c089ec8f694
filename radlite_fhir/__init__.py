"""radlite-fhir: local GGUF language models read radiology reports and write coded results.

Importing the package imports nothing heavy (no llama.cpp, no FHIR models): the command line
starts fast and `--help` works on a machine where the native build is missing.
"""

__version__ = "0.1.0"
