"""``lakehouse tables``, ``lakehouse describe`` and ``lakehouse query``: the analysts' commands.

``cli/main.py`` adds them with :func:`add_parsers`; ``python -m cli.analytics`` runs them on
their own. Importing this module imports neither pyspark nor Airflow (nor DuckDB, deltalake or
rich: each is imported when a command needs it), so ``lakehouse query`` on the DuckDB engine
starts in a fraction of a second.

Exit codes: 0 done, 1 the query failed (SQL error, table not published), 2 refused (role,
table, zone named) or a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cli.common import caller as _who
from cli.common import fail as _fail
from cli.common import first_line as _first_line

if TYPE_CHECKING:
    import pyarrow as pa
    from rich.console import Console

    from analytics.catalog import Snapshot, Table

FORMATS = ("table", "csv", "json")


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


def _root() -> str:
    from kernel.config import Settings

    return Settings.from_env().root


# ----------------------------------------------------------------------------- tables
def cmd_tables(args: argparse.Namespace) -> int:
    """The tables the caller's role may read, with version, last commit and rows."""
    from rich.table import Table as RichTable

    from analytics import catalog

    who = _who()
    if who is None:
        return 2
    root = _root()
    listed = [t for t in catalog.readable(root, who.role) if not args.zone or t.zone == args.zone]
    out = RichTable(title=f"tables role {who.role} may read ({root})")
    widest = max((len(t.name) for t in listed), default=5)
    out.add_column("table", no_wrap=True, min_width=widest)
    for col in ("kind", "version", "last commit (UTC)", "rows", "readers", "title"):
        out.add_column(col, justify="right" if col in ("version", "rows") else "left")
    for t in listed:
        try:
            snap = catalog.snapshot(root, t)
        except Exception as exc:  # one unreadable log does not hide the other tables
            out.add_row(t.name, t.kind, "?", f"unreadable: {type(exc).__name__}", "?",
                        ", ".join(t.readers), t.title)
            continue
        out.add_row(t.name, t.kind, _or(snap and snap.version), _or(snap and snap.committed_at),
                    _or(snap and f"{snap.rows:,}"), ", ".join(t.readers), t.title)
    shown = len(listed)
    _console().print(out if shown else f"no table for role {who.role}"
                     f"{' in zone ' + args.zone if args.zone else ''}")
    return 0


def _or(value: Any, missing: str = "-") -> str:
    return missing if value is None or value == "" else str(value)


# ----------------------------------------------------------------------------- describe
def cmd_describe(args: argparse.Namespace) -> int:
    """One table: description, owner, audience, contract, Delta version, rows and columns."""
    from analytics import catalog

    who = _who()
    if who is None:
        return 2
    root = _root()
    try:
        t = catalog.lookup(root, args.dataset)
    except catalog.UnknownTable as exc:
        _fail(str(exc))
        return 2
    reason = t.refusal(who.role)
    if reason:
        _fail(f"refused: {reason}")
        return 2
    try:
        snap = catalog.snapshot(root, t, args.version)
    except ValueError as exc:
        _fail(str(exc))
        return 1
    _print_description(t, snap)
    return 0


def _print_description(t: Table, snap: Snapshot | None) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    from analytics import catalog

    con = _console()
    con.print(Text(f"{t.name} — {t.title}", style="bold"))
    con.print(Text(t.description))
    facts = [("kind", t.kind), ("zone", t.zone), ("contract", t.contract or "-"),
             ("owner", ", ".join(f"{k}: {v}" for k, v in t.owner.items()) or "-"),
             ("audience", ", ".join(t.audience) if t.audience is not None else "-"),
             ("readers (roles)", ", ".join(t.readers))]
    if snap is None:
        facts.append(("version", "no data yet (nothing written)"))
    else:
        facts += [("version", str(snap.version)), ("last commit (UTC)", snap.committed_at),
                  ("operation", snap.operation), ("rows", f"{snap.rows:,}")]
        facts += [(f"commit {k}", str(v)) for k, v in snap.metadata.items()]
    for key, value in facts:
        line = Text(f"{key:>18}: ", style="dim")
        line.append(value)
        con.print(line)
    described = catalog.columns(t, snap)
    cols = RichTable(title="columns (pii: the personal-data class of the column, or of its "
                           "sources for a published column; masking: its policy)")
    cols.add_column("column", no_wrap=True, min_width=max((len(c.name) for c in described),
                                                          default=6))
    for heading in ("type", "pii", "masking", "description"):
        cols.add_column(heading)
    for c in described:
        cols.add_row(c.name, c.type, c.pii, c.masking or "-", c.description)
    con.print(cols)
    con.print(Text(f"query it: lakehouse query 'SELECT * FROM {t.name} LIMIT 10'", style="dim"))


# ----------------------------------------------------------------------------- query
def parse_versions(values: Sequence[str] | None) -> int | dict[str, int] | None:
    """``--version`` values: one ``N`` (a query on one table) or ``TABLE=N`` each."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return _version_number(values[0])
    out: dict[str, int] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep or not name.strip():
            raise ValueError(f"--version {value!r}: give N for a query on one table, or "
                             "TABLE=N (e.g. gold.person_coverage=3) for each table")
        out[name.strip()] = _version_number(number)
    return out


def _version_number(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"--version {text!r} is not a version number (0, 1, 2, …)")
    return int(text)


def read_sql(args: argparse.Namespace) -> str:
    """The statement: the argument, or ``--file`` (``-``: standard input)."""
    if bool(args.sql) == bool(args.file):
        raise ValueError('give the SQL as an argument or with --file, e.g. lakehouse query '
                         '"SELECT count(*) FROM gold.person_coverage"')
    if args.sql:
        return str(args.sql)
    if args.file == "-":
        return sys.stdin.read()
    with open(args.file, encoding="utf-8") as f:
        return f.read()


def cmd_query(args: argparse.Namespace) -> int:
    """Run one SELECT as the caller's role, audited; print the result."""
    who = _who()
    if who is None:
        return 2
    try:
        sql = read_sql(args)
        versions = parse_versions(args.version)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
        return 2
    from analytics.query import QueryFailed, QueryRefused, run

    settings = None
    if args.engine == "spark":
        from kernel.config import Settings

        settings = Settings.from_env()
    try:
        res = run(sql, who, _root(), versions, args.engine, settings=settings)
    except QueryRefused as exc:
        _fail(f"refused: {exc}")
        return 2
    except QueryFailed as exc:
        _fail(f"query failed: {exc}")
        return 1
    write_result(res.table, args.format, args.max_rows)
    from rich.text import Text

    read = ", ".join(f"{name} v{v}" for name, v in res.versions.items()) or "no table"
    _console(stderr=True).print(Text(
        f"{res.table.num_rows:,} row(s) · {read} · {res.seconds:.2f} s · role {who.role} · "
        f"audit entry {res.audit_seq}", style="dim"))
    return 0


def write_result(table: pa.Table, fmt: str, max_rows: int = 1000) -> None:
    """Print a result as a table (at most ``max_rows`` rows), CSV or JSON (to stdout)."""
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.column_names)
        for batch in table.to_batches():
            for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                writer.writerow([_csv_value(v) for v in row])
        sys.stdout.flush()
        return
    if fmt == "json":
        import json

        json.dump(table.to_pylist(), sys.stdout, ensure_ascii=False, default=_json_value)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return
    from rich.table import Table as RichTable

    out = RichTable()
    for name in table.column_names:
        out.add_column(name)
    for row in table.slice(0, max_rows).to_pylist():
        out.add_row(*("" if v is None else str(v) for v in row.values()))
    _console().print(out)
    if table.num_rows > max_rows:
        _fail(f"showing {max_rows:,} of {table.num_rows:,} rows: use --format csv or json "
              "for all, or --max-rows")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _json_value(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# ----------------------------------------------------------------------------- wiring
def add_parsers(subparsers: Any) -> None:
    """Add ``tables``, ``describe`` and ``query`` to the ``lakehouse`` sub-commands."""
    t = subparsers.add_parser("tables", help="the tables your role may read (LAKEHOUSE_ROLE)")
    t.add_argument("--zone", help="only this zone (gold, opendata, silver, system, …)")
    t.set_defaults(func=cmd_tables)

    d = subparsers.add_parser("describe", help="a table: description, owner, audience, "
                                               "columns and their classification, version")
    d.add_argument("dataset", help='e.g. gold.person_coverage or silver."moi.residents"')
    d.add_argument("--version", type=int, default=None, help="a Delta version (default: latest)")
    d.set_defaults(func=cmd_describe)

    q = subparsers.add_parser("query", help="one SELECT over the lakehouse's tables (DuckDB, "
                                            "or --engine spark); checked and audited")
    q.add_argument("sql", nargs="?", help='e.g. "SELECT county, count(*) FROM '
                                          'gold.person_coverage GROUP BY county"')
    q.add_argument("--file", "-f", help="read the SQL from this file (- for standard input)")
    q.add_argument("--format", choices=FORMATS, default="table")
    q.add_argument("--version", action="append", metavar="N|TABLE=N",
                   help="Delta time travel: N for a query on one table, TABLE=N each "
                        "(repeatable)")
    q.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="duckdb (default, no JVM) or spark (work too big for one process)")
    q.add_argument("--max-rows", type=int, default=1000, help="table format: rows shown")
    q.set_defaults(func=cmd_query)


def parser() -> argparse.ArgumentParser:
    """A parser with the three commands alone (``python -m cli.analytics``)."""
    p = argparse.ArgumentParser(prog="lakehouse", description=__doc__.splitlines()[0])
    add_parsers(p.add_subparsers(dest="command", required=True))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one of the commands; exit code as in the module docstring."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as exc:  # one clear line, as cli.main does
        _fail(f"{args.command} failed: {type(exc).__name__}: {_first_line(exc)}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
