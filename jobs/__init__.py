"""Spark jobs: pure transforms (``DataFrame -> DataFrame``) plus thin I/O shells.

The transforms take no paths, read no clock and no environment; the shells in
the stages (``stages``) read and write through ``kernel.storage``.
"""
