"""Test support that starts real components (never mocks of our own)."""
