"""CSM capacity: weekly hours a portfolio needs against each CSM's capacity, and the portfolio summary."""

import datetime as dt

# Open tasks count towards a CSM's week when due within this of today (overdue included). The
# exact rule, the panel's statement and the task-load fold all use it: a fold dates its row by it,
# so a reader with another horizon would miss folded minutes.
TASKS_DUE_WITHIN = dt.timedelta(days=7)
