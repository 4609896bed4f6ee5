"""CSM tasks (to-dos from playbooks or by hand): create, complete, snooze, cancel."""
