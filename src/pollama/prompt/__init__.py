"""prompt package."""
