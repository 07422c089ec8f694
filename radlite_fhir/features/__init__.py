"""Reading the features of the RADS decision tables from report text, each value grounded in a
span of the report.

`lexicon.py` loads the words (mappings/rads_lexicon.yaml), `text.py` knows sentences, negation
and measurements, `reader.py` decides which system applies, splits the report into lesions and
fills each lesion's feature record. The guideline tables (radlite_fhir.guidelines) then compute
the category; nothing here decides a category.
"""
