# The sandbox became its own app (dashboard.sandbox). Its table keeps its name and its rows:
# this app forgets the model (state only); sandbox.0001_initial takes it over (state only).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0003_audit_unknown_outcome_and_reconciliation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SandboxModel")],
            database_operations=[],
        ),
    ]
