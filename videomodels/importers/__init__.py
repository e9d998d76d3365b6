"""Importers of the seed systems' original config formats into ArchSpec."""
from __future__ import annotations

from videomodels.importers.assemblenet import import_assemblenet
from videomodels.importers.common import ImportError_
from videomodels.importers.evanet import import_evanet
from videomodels.importers.tvn import import_tvn

IMPORTERS = {"assemblenet": import_assemblenet, "evanet": import_evanet, "tvn": import_tvn}

__all__ = ["IMPORTERS", "ImportError_", "import_assemblenet", "import_evanet", "import_tvn"]
