"""Development and demo only: the synthetic agency generator, the agency API simulator and the
demo runner. Production code never imports this package, but for the one configured fallback
of the NHI pull (no base URL configured: the simulator serves the generated data)."""
