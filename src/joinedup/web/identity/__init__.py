"""The person index's pages: the review queue and one review, side by side with the evidence."""
