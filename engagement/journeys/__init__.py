"""Email journeys: enrolment and exits, the scheduler, the outbox sender, one-click unsubscribe, the
screens.
"""
