"""JoinedUp: integrated health and social care records for a place."""

__version__ = "0.1.0"
