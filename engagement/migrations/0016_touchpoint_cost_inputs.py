from django.db import migrations

# A touchpoint's minutes are cost-to-serve inputs: whoever writes or deletes touchpoints (the
# service, the CRM sync, a bulk load), segmentation's kept inputs of those accounts are marked to
# be counted again (the functions come with segmentation's table).
_FORWARD = """
CREATE TRIGGER cost_inputs_touchpoint_inserted AFTER INSERT ON engagement_touchpoint
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION segmentation_cost_inputs_mark();
CREATE TRIGGER cost_inputs_touchpoint_deleted AFTER DELETE ON engagement_touchpoint
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION segmentation_cost_inputs_mark();
CREATE TRIGGER cost_inputs_touchpoint_updated AFTER UPDATE ON engagement_touchpoint
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION segmentation_cost_inputs_mark_update();
"""
_BACKWARD = """
DROP TRIGGER IF EXISTS cost_inputs_touchpoint_inserted ON engagement_touchpoint;
DROP TRIGGER IF EXISTS cost_inputs_touchpoint_deleted ON engagement_touchpoint;
DROP TRIGGER IF EXISTS cost_inputs_touchpoint_updated ON engagement_touchpoint;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0015_bounds"),
        ("segmentation", "0014_cost_inputs"),
    ]
    operations = [migrations.RunSQL(_FORWARD, _BACKWARD)]
