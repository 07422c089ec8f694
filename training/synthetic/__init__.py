"""Synthetic reports whose labels follow from published rules (see acr_rules.py)."""
