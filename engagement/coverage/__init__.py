"""The module deliveries ledger and coverage: each entitlement's last delivery and next due day."""
