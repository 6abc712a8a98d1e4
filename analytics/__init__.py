"""Analysts' access to the lakehouse: the catalog, SQL queries and the roles that govern them.

``lakehouse tables`` and ``lakehouse describe`` show what a role may read (from the contracts
and the Delta logs); ``lakehouse query`` runs one SELECT on DuckDB over the Delta tables read
with ``deltalake`` (no JVM), or on Spark with ``--engine spark``. Every query is checked against
the caller's role and written to the audit log, refused ones included.

Nothing in this package imports pyspark or Airflow at module import: the DuckDB path starts in
well under a second (:mod:`bench.query` measures it).
"""
