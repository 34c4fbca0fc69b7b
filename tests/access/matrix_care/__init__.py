"""The access matrix's cells for care coordination's routes, one module per sub-domain (so that each sub-domain's
cells live beside each other and apart from the rest). test_matrix.py imports this package after its own helpers
are defined; each module here registers its routes' cells with `test_matrix.route`."""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
