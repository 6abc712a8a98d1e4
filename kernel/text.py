"""Spark column expressions for text as the agencies write it (built-in functions only).

The full-width forms clerks type (:data:`kernel.twid.FULL_WIDTH`), white space around values
(tabs and ideographic spaces included), and the normalised identifier every feed is joined and
pseudonymised by. Used by the conformance jobs, the masking policies and the quality rules alike.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from kernel.twid import FULL_WIDTH, HALF_WIDTH


def nfkc_width(col: Column) -> Column:
    """Full-width letters, digits, punctuation and spaces to their ASCII forms."""
    return F.translate(col, FULL_WIDTH, HALF_WIDTH)


def trim_ws(col: Column) -> Column:
    """Trim leading and trailing white space (tabs and ideographic spaces included)."""
    return F.regexp_replace(col, r"^[\s\u3000]+|[\s\u3000]+$", "")


def normalise_identifier(col: Column) -> Column:
    """NFKC (full-width forms to ASCII), upper case, trimmed: the identifier as it is joined
    across feeds and hashed into ``person_key``."""
    return F.upper(trim_ws(nfkc_width(col)))
