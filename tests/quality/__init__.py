"""Tests of the quality package (contract-derived checks, expectations, suite and gate)."""
