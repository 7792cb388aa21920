"""A consult reply is free text like the note's (length limit, no control characters), and none
is added once its note left draft: the reply belongs to the contact in progress, and the signed
record must stay as it was signed (the service refuses it too; this is the backstop)."""

import crisisnotes.validators
import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models

from crisisnotes.db import ProtectRows


class Migration(migrations.Migration):

    dependencies = [
        ('crisis_sessions', '0013_merge_20261130_0946'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='consultreply',
            name='author_name',
            field=crisisnotes.validators.SafeCharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='consultreply',
            name='text',
            field=crisisnotes.validators.LimitedTextField(max_length=10000),
        ),
        migrations.AddConstraint(
            model_name='consultreply',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('text'), 10000), name='consultreply_text_len'),
        ),
        ProtectRows(
            name="crisis_sessions_consultreply_sealed",
            table="crisis_sessions_consultreply",
            message="a consult reply belongs to a contact in progress: this note left draft",
            insert_when=(
                "EXISTS (SELECT 1 FROM crisis_sessions_crisissession n "
                "WHERE n.id = NEW.session_id AND n.status <> 'draft')"
            ),
            update_when=None,
            delete_when=None,
        ),
    ]
