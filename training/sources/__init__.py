"""One loader per published data format; each reads a path the user gives and yields Records.

Nothing here downloads: the credentialed corpora (MIMIC-CXR, RadGraph, RadNLI/MedNLI, Merlin)
and RXL-RADSet's text are read where the user put them. A file without the expected shape
raises `SourceError` naming the file and what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from training.records import Record


def loaders() -> dict[str, Callable[[Path], Iterator[Record]]]:
    """Source name -> loader, as recipes name them."""
    from training.sources import (
        merlin,
        mimic_cxr,
        mtsamples,
        nli,
        openi,
        radgraph,
        radlabels,
        rxl_radset,
        tcga,
    )

    return {
        "rxl-radset": rxl_radset.load,
        "radnli": nli.load,
        "mednli": nli.load,
        "radgraph": radgraph.load,
        "radgraph-xl": radgraph.load,
        "mimic-cxr": mimic_cxr.load,
        "merlin": merlin.load,
        "openi": openi.load,
        "tcga": tcga.load,
        "mtsamples": mtsamples.load,
        "radlabels": radlabels.load,
    }


def load(name: str, path: Path) -> list[Record]:
    table = loaders()
    if name not in table:
        raise ValueError(f"unknown source '{name}' (known: {', '.join(sorted(table))})")
    if not path.exists():
        raise FileNotFoundError(f"{path}: source '{name}' not found there")
    return list(table[name](path))
