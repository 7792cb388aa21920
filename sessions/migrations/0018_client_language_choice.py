"""The client's language becomes a choice of the app's languages (settings.LANGUAGES): the client
copy of the safety plan is produced in it. Free text typed before is mapped to a code; a language
the app has no catalogue for is kept, word for word, at the end of the notes on supports (and the
client copy stays in English)."""

import re

from django.db import migrations, models

SPANISH = re.compile(r"^\s*(es\b|esp|span|castellano)", re.IGNORECASE)
ENGLISH = re.compile(r"^\s*(en\b|eng|ingl)", re.IGNORECASE)


def to_codes(apps, schema_editor):
    Client = apps.get_model("crisis_sessions", "Client")
    for client in Client.objects.exclude(language__in=["", "en", "es"]).iterator():
        text = client.language
        if SPANISH.match(text):
            client.language = "es"
        else:
            if not ENGLISH.match(text):
                note = f"Language noted before the language list: {text}"
                client.supports_notes = "\n".join(p for p in (client.supports_notes, note) if p)
            client.language = "en"
        client.save(update_fields=["language", "supports_notes"])
    Client.objects.filter(language="").update(language="en")


class Migration(migrations.Migration):
    dependencies = [
        ("crisis_sessions", "0017_merge_0011_export_chunks_0016_contact_fields_limits"),
    ]

    operations = [
        migrations.RunPython(to_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="client",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("es", "Spanish")],
                default="en",
                help_text="The client copy of the safety plan is written in this language.",
                max_length=8,
                verbose_name="language",
            ),
        ),
    ]
