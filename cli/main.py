"""The ``lakehouse`` command line: one parser assembled from one module per command group.

======================  =====================================================================
module                  commands
======================  =====================================================================
``cli.feeds``           ``run``, ``quarantine list|show|release``
``cli.publish``         ``publish``
``cli.reports``         ``quality report``, ``lineage report``
``cli.audit``           ``audit verify``, ``audit exchanges``
``cli.pii``             ``scan-pii``, ``eval-pii``, ``reidentify``
``cli.demo``            ``generate``, ``demo``
``cli.analytics``       ``tables``, ``describe``, ``query``
``cli.serve``           ``serve`` (the data services for other agencies)
======================  =====================================================================

Each module declares its commands' arguments once (``add_parsers``) and imports Spark, Airflow
and the rest inside its functions, so building the parser is quick. Exit status: 0 done, 1 a
problem (a refused delivery, a failed gate or publish: one line each, naming feed, file and
reason, never a traceback), 2 refused (a role, a missing key) or a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from collections.abc import Sequence

from cli import analytics, audit, demo, feeds, pii, publish, reports, serve
from cli.common import fail, first_line

GROUPS = (demo, feeds, publish, reports, pii, audit, analytics, serve)
"""The command modules, in the order of ``lakehouse --help``."""


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``lakehouse``."""
    p = argparse.ArgumentParser(prog="lakehouse",
                                description=__doc__.splitlines()[0].replace("``", ""))
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (see the module docstring)."""
    args = parser().parse_args(argv)
    if getattr(args, "run_id", "x") is None:
        args.run_id = f"cli-{uuid.uuid4().hex[:12]}"
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except Exception as exc:  # one clear line, never a bare stack trace
        from kernel.spark import SetupError

        if isinstance(exc, SetupError):
            fail(str(exc))
            return 2
        fail(f"{args.command} failed: {type(exc).__name__}: {first_line(exc)}")
        if os.environ.get("LAKEHOUSE_DEBUG"):
            raise
        return 1


def entry() -> None:
    """The ``lakehouse`` console script: :func:`main`, then exit without the interpreter's
    teardown. pyarrow's C++ thread pools can abort a finished process while Python unloads
    them (``terminate called without an active exception``, exit status -6: apache/arrow#34314);
    every write is committed and every file closed by then, so the process leaves at once with
    main's status."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    entry()
