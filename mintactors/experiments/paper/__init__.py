"""The paper's evaluation on the model: Table 1, Table 2 and Figure 9, and the calibration."""

from mintactors.experiments.paper.fig9 import Fig9Point, Fig9Summary, fig9
from mintactors.experiments.paper.measure import (
    FULL,
    QUICK,
    PaperScale,
    Table1Row,
    Table2Row,
    table1,
    table2,
)

__all__ = [
    "FULL",
    "Fig9Point",
    "Fig9Summary",
    "PaperScale",
    "QUICK",
    "Table1Row",
    "Table2Row",
    "fig9",
    "table1",
    "table2",
]
