"""The ``lakehouse`` command line: one module per command group."""
