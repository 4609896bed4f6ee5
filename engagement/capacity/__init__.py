"""CSM capacity: weekly hours a portfolio needs against each CSM's capacity, and the portfolio summary."""
