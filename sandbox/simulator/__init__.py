"""Simulators of the agencies' online interfaces, for the demo and the tests.

A simulator is a real server on localhost serving the data the generator wrote under
``<root>/sources/<agency>/<feed>/``, with the interface's behaviour (authentication, paging,
throttling, outages) as the specification describes it: the pullers talk to it exactly as they
talk to the agency. :mod:`sandbox.simulator.nhia` serves the NHIA insured-status API.
"""
