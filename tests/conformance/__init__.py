"""The governance conformance suite: every pattern factory, the same governance checks.

A pattern joins the suite with one `PatternCase` entry in `registry.CASES`.
"""
