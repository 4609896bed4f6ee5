"""AE handoff commitments, checked against the tier, and leadership's decisions on exceptions."""
