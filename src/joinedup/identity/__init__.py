"""The person index: linkage of source Patient records to persons (deterministic, then Splink)."""
