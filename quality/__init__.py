"""Data quality derived from the feed contracts.

Every rule of a :class:`~kernel.contracts.FeedContract` becomes

- a Spark predicate (:mod:`quality.checks`) that splits a conformed batch into passing and
  quarantined rows, and
- a Great Expectations expectation (:mod:`quality.suite`, with the Taiwan-specific custom
  expectations of :mod:`quality.expectations`) that the batch gate (:mod:`quality.gate`) runs to
  decide whether the batch may be published.

Nothing here restates a rule by hand: the contract is the only source. Results never carry a
value from the data, only rule ids, column names and counts, because the data is personal.
"""
