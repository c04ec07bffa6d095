"""FixProposal.incident_ref (an incident's id, kept before the incidents app existed) becomes a
foreign key to incidents.Incident on the same column. Ids that name no incident are cleared first
(the foreign key could not be added over them); the audit log keeps what was proposed."""

import django.db.models.deletion
from django.db import migrations, models


def clear_dangling_ids(apps, schema_editor):
    FixProposal = apps.get_model("releases", "FixProposal")
    Incident = apps.get_model("incidents", "Incident")
    known = Incident.objects.values("pk")
    FixProposal.objects.filter(incident_ref__isnull=False).exclude(incident_ref__in=known).update(incident_ref=None)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_sentinel_incidents"),
        ("releases", "0004_canary_analysis"),
    ]

    operations = [
        migrations.RunPython(clear_dangling_ids, migrations.RunPython.noop),
        migrations.RenameField(model_name="fixproposal", old_name="incident_ref", new_name="incident"),
        migrations.AlterField(
            model_name="fixproposal",
            name="incident",
            field=models.ForeignKey(
                blank=True, db_column="incident_ref", help_text="The incident this fixes (its tenant becomes the proposal's when none is given).",
                null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="incidents.incident",
            ),
        ),
    ]
