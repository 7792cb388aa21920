from django.db import migrations

from crisisnotes.db import ProtectRows


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        ProtectRows(
            name="audit_event_append_only",
            table="audit_auditevent",
            message="audit events are append-only",
        ),
    ]
