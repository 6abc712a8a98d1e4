"""The errors every layer may raise and the command line reports as one line.

A :class:`DeliveryError` refuses a whole delivery (a file, a pull): its message names the
problem (the line, the byte, the rule), never a value from the data.
"""

from __future__ import annotations


class DeliveryError(ValueError):
    """A delivery that cannot be ingested; the message names the problem (never a value)."""
