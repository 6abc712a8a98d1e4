"""Spark jobs: pure transforms (``DataFrame -> DataFrame``) plus thin I/O shells.

The transforms take no paths, read no clock and no environment; the shells in
``convergence.pipeline`` read and write through ``convergence.storage``.
"""
