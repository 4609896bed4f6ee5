from .policies import PolicyStatus, ApplyMode, TierPolicy, Tier, TouchModel

__all__ = ["ApplyMode", "PolicyStatus", "Tier", "TierPolicy", "TouchModel"]
