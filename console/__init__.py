"""The stewards' console inside Airflow: an Airflow 3.3 plugin (:mod:`console.plugin`).

A FastAPI app mounted by Airflow's API server under ``/lakehouse`` (:mod:`console.app`), and
the external views that put its pages in the Airflow UI: the "Lakehouse" page in the
navigation (every feed and dataset at a glance), and on a DAG run its quality report and
lineage report, on a feed DAG its quarantine. Every page is behind Airflow's own
authentication and authorisation (:mod:`console.auth`), reads the lakehouse without Spark
(``deltalake`` and the read-only report helpers) and shows ids, counts, digests, rule ids and
reasons: never a value from the data.
"""
