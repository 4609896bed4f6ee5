"""What people are told: in-app notifications (the bell), preferences, and email digests."""
