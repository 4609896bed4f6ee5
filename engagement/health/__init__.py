"""Account health as engagement sees it: its inputs (coverage kept, open flags, last touch),
and the flag raised when an account falls into at risk."""
