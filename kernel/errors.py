"""The errors every layer may raise and the command line reports as one line.

A :class:`DeliveryError` refuses a whole delivery (a file, a pull): its message names the
problem (the line, the byte, the rule), never a value from the data.
"""

from __future__ import annotations


class DeliveryError(ValueError):
    """A delivery that cannot be ingested; the message names the problem (never a value)."""


PROBLEMS_XCOM_KEY = "lakehouse_problems"
"""The XCom key under which a failing Airflow task leaves its problem lines (one per refused
delivery, failed gate or refused publish, as ``lakehouse run`` prints them), for the run's
note (:mod:`console.notes`)."""
