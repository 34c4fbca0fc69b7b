"""The 'some information is withheld' notice: the page says that the gate kept something back, never what or how much.

The gate decides in SQL (consent and sensitivity rules) and answers only yes or no (`AccessGate.withholds`): a
count, a category or the organisation that wrote it would itself tell the reader something about the person
(decision 0302).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WithheldNotice:
    shown: bool
