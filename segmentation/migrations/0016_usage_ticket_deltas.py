from django.db import migrations

# A week's usage is written for every account at once; marking each of those accounts to be
# counted again made the next read of the kept inputs recount the whole book. The usage triggers
# instead add to each account's kept tickets the difference the statement made within the
# counted window: SUM(new rows in the window) - SUM(old rows in the window) per account, so an
# UPDATE that changes the tickets, moves a period across the window's start or moves a row to
# another account comes out right. Rows before the window add nothing; accounts whose difference
# is 0 are not written.
#
# The window is read in the same statement as the upsert: a trigger that waits on the EXCLUSIVE
# lock of a count (``queries.cost_inputs``) takes its snapshot once the lock is granted, so it
# reads the window that count committed and adds to the figures it wrote, which did not include
# this statement's uncommitted rows. A count that waits for a writer instead sees the writer's
# rows, and replaces or keeps (when not marked) the figure the writer's delta already moved.
# While the window was never counted (no row, or no start) nothing is added: the first count
# covers every row.
#
# A new row gets 0 minutes and counts as current: an account without a row has neither minutes
# nor tickets in the counted window (touchpoint writes mark theirs). Rows are written in account
# order, so that two writers of overlapping accounts lock them in the same order.
_WINDOW = "SELECT window_start FROM segmentation_costinputswindow WHERE id = 1 AND window_start IS NOT NULL"

_UPSERT = """
    INSERT INTO segmentation_accountcostinputs AS kept (account_id, minutes, tickets, current)
    SELECT d.account_id, 0, SUM(d.n), true
    FROM ({rows}) d JOIN ({window}) w ON d.period_start >= w.window_start
    GROUP BY d.account_id HAVING SUM(d.n) <> 0
    ORDER BY d.account_id
    ON CONFLICT (account_id) DO UPDATE SET tickets = kept.tickets + EXCLUDED.tickets;
"""

_ADDED = "SELECT account_id, period_start, support_tickets AS n FROM changed"
_DELETED = "SELECT account_id, period_start, -support_tickets AS n FROM changed"
_UPDATED = (
    "SELECT account_id, period_start, support_tickets AS n FROM new_rows "
    "UNION ALL SELECT account_id, period_start, -support_tickets FROM old_rows"
)

DELTA_FUNCTIONS = f"""
DROP TRIGGER cost_inputs_usage_inserted ON accounts_usagesnapshot;
DROP TRIGGER cost_inputs_usage_deleted ON accounts_usagesnapshot;
DROP TRIGGER cost_inputs_usage_updated ON accounts_usagesnapshot;

CREATE FUNCTION segmentation_cost_inputs_usage_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_UPSERT.format(rows=_ADDED, window=_WINDOW)}
    RETURN NULL;
END $$;

CREATE FUNCTION segmentation_cost_inputs_usage_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_UPSERT.format(rows=_DELETED, window=_WINDOW)}
    RETURN NULL;
END $$;

CREATE FUNCTION segmentation_cost_inputs_usage_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_UPSERT.format(rows=_UPDATED, window=_WINDOW)}
    RETURN NULL;
END $$;

CREATE TRIGGER cost_inputs_usage_inserted AFTER INSERT ON accounts_usagesnapshot
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION segmentation_cost_inputs_usage_inserted();
CREATE TRIGGER cost_inputs_usage_deleted AFTER DELETE ON accounts_usagesnapshot
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION segmentation_cost_inputs_usage_deleted();
CREATE TRIGGER cost_inputs_usage_updated AFTER UPDATE ON accounts_usagesnapshot
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION segmentation_cost_inputs_usage_updated();
"""

# Back to marking (the functions of 0014, which the touchpoint triggers still use).
MARK_TRIGGERS = """
DROP TRIGGER cost_inputs_usage_inserted ON accounts_usagesnapshot;
DROP TRIGGER cost_inputs_usage_deleted ON accounts_usagesnapshot;
DROP TRIGGER cost_inputs_usage_updated ON accounts_usagesnapshot;
DROP FUNCTION segmentation_cost_inputs_usage_inserted();
DROP FUNCTION segmentation_cost_inputs_usage_deleted();
DROP FUNCTION segmentation_cost_inputs_usage_updated();

CREATE TRIGGER cost_inputs_usage_inserted AFTER INSERT ON accounts_usagesnapshot
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION segmentation_cost_inputs_mark();
CREATE TRIGGER cost_inputs_usage_deleted AFTER DELETE ON accounts_usagesnapshot
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION segmentation_cost_inputs_mark();
CREATE TRIGGER cost_inputs_usage_updated AFTER UPDATE ON accounts_usagesnapshot
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION segmentation_cost_inputs_mark_update();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0015_tier_book"),
    ]
    operations = [migrations.RunSQL(DELTA_FUNCTIONS, MARK_TRIGGERS)]
