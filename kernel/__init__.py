"""The kernel of the Convergence Lakehouse (匯流資料湖倉): what every layer above stands on.

Configuration (:mod:`kernel.config`), data contracts (:mod:`kernel.contracts`), the zone layout
(:mod:`kernel.layout`) and the one module that reads and writes storage (:mod:`kernel.storage`),
the run records (:mod:`kernel.records`), the Spark session, locks, the run context, delivery
errors, Taiwan identifier rules and fault injection. It imports nothing from the packages above
it (stages, jobs, quality, masking, lineage, analytics); only :mod:`audit` lies below.
"""

__version__ = "0.1.0"
