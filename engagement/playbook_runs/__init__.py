"""Starting playbooks on tier changes, overrides, onboarding and renewals: their steps become tasks or
enrolments.
"""
