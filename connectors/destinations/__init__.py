"""connectors/destinations package."""
