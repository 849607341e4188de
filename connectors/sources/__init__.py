"""connectors/sources package."""
