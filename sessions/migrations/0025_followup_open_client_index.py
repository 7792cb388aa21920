from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crisis_sessions", "0024_client_recent_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="followuptask",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", True)),
                fields=["client", "due_at", "id"],
                name="followup_open_client_idx",
            ),
        ),
    ]
