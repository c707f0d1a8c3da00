"""Which numeric columns of a table are identifiers (a customer number, a row number) rather than
measurements, so the loader leaves them out with a note instead of training on them.

A numeric column of whole numbers (at least ID_MIN_ROWS of them) is an identifier when either
  * its name says so (a word such as id, uuid, key, index, no, number, row or serial:
    "customer_id", "CustomerID", "OrderNo", "row_number", "userid") and nearly every row has
    its own value (at least ID_UNIQUE_SHARE of them: random ids repeat now and then), or
  * it has no real name (no header, "", "Unnamed: 0" as pandas writes its index) and counts
    the rows (0, 1, 2, ... or 1, 2, 3, ... in file order).
A column of distinct whole numbers with an ordinary name ("income", "x") stays a feature.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["identifier_reason", "name_may_be_identifier", "ID_MIN_ROWS"]

ID_MIN_ROWS = 20  # fewer rows than this say too little to call a column an identifier
ID_UNIQUE_SHARE = 0.9  # a named id column: at least this share of its rows have a value of their own
ID_WORDS = {"id", "ids", "uuid", "guid", "key", "index", "idx", "no", "nr", "num", "number", "row", "rownum",
            "rowid", "serial", "record", "pk"}
UNNAMED = re.compile(r"^(unnamed(: ?\d+)?|col\d+|index|level_0|)$", re.IGNORECASE)


def _name_words(name: str) -> list[str]:
    """'CustomerID' -> ['customer', 'id']; 'row_number' -> ['row', 'number']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip())
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def _name_says_identifier(name: str) -> bool:
    words = _name_words(name)
    if any(w in ID_WORDS for w in words):
        return True
    # glued lower-case names: "customerid", "userid" (but not "paid", "valid")
    return len(words) == 1 and words[0].endswith("id") and len(words[0]) >= 5 and words[0] not in {"valid", "fluid", "humid", "liquid", "hybrid", "rapid", "solid", "stupid", "acid"}


def name_may_be_identifier(name: str) -> bool:
    """Whether a column called `name` can be an identifier at all (its name says so, or it has
    none): only those columns' values need looking at."""
    return _name_says_identifier(name) or bool(UNNAMED.match(name.strip()))


def identifier_reason(name: str, values: np.ndarray) -> str | None:
    """Why the numeric column `name` (float values, NaN where missing, in file order) is an
    identifier, as a phrase for the loader's note; None when it is an ordinary feature."""
    if not name_may_be_identifier(name):
        return None  # checked first: on a million rows the checks below are what costs
    named_id, unnamed = _name_says_identifier(name), bool(UNNAMED.match(name.strip()))
    head = values[:1000]
    if np.any(np.mod(head[~np.isnan(head)], 1.0) != 0):
        return None
    present = values[~np.isnan(values)]
    n = len(present)
    if n < ID_MIN_ROWS or not np.all(np.mod(present, 1.0) == 0):
        return None
    distinct = len(np.unique(present))
    if named_id and distinct >= ID_UNIQUE_SHARE * n:
        return (f"{n} different whole numbers, one per row" if distinct == n else
                f"{distinct} different whole numbers in {n} rows")
    if distinct != n:
        return None
    if unnamed and n == len(values):
        steps = np.diff(present)
        if present[0] in (0, 1) and np.all(steps == 1):
            return f"no name, and it counts the rows: {int(present[0])}, {int(present[1])}, {int(present[2])}, ..."
    return None
