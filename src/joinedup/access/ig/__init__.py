"""The information governance console's analyses: unusual access and subject access requests."""
