# Takes over the table dashboard.0001 created (state only: no rows move, none are lost).
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0004_sandbox_model_moves_to_the_sandbox_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SandboxModel",
                    fields=[
                        ("id", models.CharField(max_length=512, primary_key=True, serialize=False)),
                        ("created", models.BigIntegerField()),
                        ("owned_by", models.CharField(max_length=200)),
                        ("shutdown_date", models.DateField(blank=True, null=True)),
                        ("extra", models.JSONField(blank=True, default=dict)),
                    ],
                    options={"db_table": "dashboard_sandboxmodel", "ordering": ["id"]},
                ),
            ],
            database_operations=[],
        ),
    ]
