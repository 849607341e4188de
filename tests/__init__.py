"""Test suite; one sub-package per area (tests/dsl, tests/privacy, ...)."""
