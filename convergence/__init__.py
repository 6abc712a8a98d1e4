"""Convergence Lakehouse (匯流資料湖倉): the core package.

Configuration, contracts, storage, the Spark session, pipeline orchestration and the
``lakehouse`` command line. Spark jobs live in ``jobs``, quality gates in ``quality`` and
personal-data protection in ``masking``.
"""

__version__ = "0.1.0"
