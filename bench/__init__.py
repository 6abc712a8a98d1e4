"""The benchmark: what governance costs over a bare conversion, measured side by side.

``make bench`` (or ``python -m bench --persons N``) runs :func:`bench.run.main`; see
``bench/README.md`` for what is measured, how, and the results.
"""
