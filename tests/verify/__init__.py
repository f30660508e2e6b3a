"""Tests of `python -m tools.verify` against real servers on loopback."""
