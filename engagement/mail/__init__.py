"""The outbox of emails to one person that are not journey steps: survey invitations, digests."""
