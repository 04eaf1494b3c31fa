"""A demo network to explore engage with: fictional people, fiction-range phone numbers."""
