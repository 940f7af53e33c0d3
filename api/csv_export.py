"""CSV that is safe to open in a spreadsheet: every CSV Kaskad writes goes through csv_lines().

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV injection: `=HYPERLINK(...)` in a first name). As OWASP advises,
such a cell gets a leading single quote, which spreadsheets show as text. A plain number such as an
E.164 phone (`+79161234567`) or `-5` runs nothing, so it is left as it is for the programs that
import these files.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def csv_safe_cell(value: Any) -> Any:
    """`value`, with a leading quote if a spreadsheet would run it as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class _Echo:
    """A file that returns what is written, so csv.writer yields lines for a streamed response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one CSV line (header rows included), every cell made safe."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([csv_safe_cell(cell) for cell in row])
