"""Demo engagement history for seeded accounts."""
