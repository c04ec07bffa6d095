"""The release bundle carries the answer brain's real settings.

Sections `prompts`, `gate` and `replies` go: nothing read them (the brain has its own rule order,
thresholds and LLM templates; the holding reply is a per-tenant setting). A new `answering`
section holds overrides of `conversations.answering.defaults.DEFAULTS`, which the brain reads.

The one old key the brain did read, `gate.max_sources`, moves to `answering.thresholds.max_items`
— so every release, released ones included, keeps serving exactly what it served. That data move
is why the immutability trigger is dropped first and put back (with the new column list) last.
"""

from django.db import migrations, models

OLD_FROZEN = ("version", "image_tag", "prompts", "gate", "eval_thresholds", "replies", "flags", "notes",
              "author_kind", "author_id", "author_label", "created_at")
NEW_FROZEN = ("version", "image_tag", "answering", "eval_thresholds", "flags", "notes",
              "author_kind", "author_id", "author_label", "created_at")


def _postgres_create(frozen):
    return f"""
CREATE OR REPLACE FUNCTION releases_release_guard() RETURNS trigger AS $$
BEGIN
  IF OLD.status <> 'draft' THEN
    IF NEW.status = 'draft' THEN
      RAISE EXCEPTION 'release % left draft; it cannot go back to draft', OLD.version;
    END IF;
    IF ({", ".join("NEW." + f for f in frozen)}) IS DISTINCT FROM ({", ".join("OLD." + f for f in frozen)}) THEN
      RAISE EXCEPTION 'release % is immutable once it leaves draft', OLD.version;
    END IF;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER releases_release_guard BEFORE UPDATE ON releases_release
  FOR EACH ROW EXECUTE FUNCTION releases_release_guard();
"""


POSTGRES_DROP = """
DROP TRIGGER IF EXISTS releases_release_guard ON releases_release;
DROP FUNCTION IF EXISTS releases_release_guard();
"""


def _sqlite_create(frozen):
    return f"""
CREATE TRIGGER releases_release_guard BEFORE UPDATE ON releases_release
FOR EACH ROW WHEN OLD.status <> 'draft' AND (
  NEW.status = 'draft' OR {" OR ".join(f"NEW.{f} IS NOT OLD.{f}" for f in frozen)}
)
BEGIN
  SELECT RAISE(ABORT, 'release is immutable once it leaves draft');
END;
"""


SQLITE_DROP = "DROP TRIGGER IF EXISTS releases_release_guard;"


def _guard(frozen):
    def create(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_postgres_create(frozen), params=None)
        elif vendor == "sqlite":
            schema_editor.execute(_sqlite_create(frozen), params=None)

    return create


def drop_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)


def move_max_sources(apps, schema_editor):
    release_model = apps.get_model("releases", "Release")
    for release in release_model.objects.exclude(gate={}):
        gate = release.gate or {}
        if "max_sources" in gate:
            answering = dict(release.answering or {})
            thresholds = dict(answering.get("thresholds") or {})
            thresholds.setdefault("max_items", gate["max_sources"])
            answering["thresholds"] = thresholds
            release_model.objects.filter(pk=release.pk).update(answering=answering)


def move_max_items_back(apps, schema_editor):
    release_model = apps.get_model("releases", "Release")
    for release in release_model.objects.exclude(answering={}):
        max_items = ((release.answering or {}).get("thresholds") or {}).get("max_items")
        if max_items is not None:
            release_model.objects.filter(pk=release.pk).update(gate={**(release.gate or {}), "max_sources": max_items})


HELP = "Overrides of the answer brain's behaviour: rules (gate order), thresholds, templates (prompts, reply join)."


class Migration(migrations.Migration):

    dependencies = [
        ("releases", "0002_release_guard_and_pointers"),
    ]

    operations = [
        migrations.RunPython(drop_guard, _guard(OLD_FROZEN)),
        migrations.AddField(
            model_name="historicalrelease",
            name="answering",
            field=models.JSONField(blank=True, default=dict, help_text=HELP),
        ),
        migrations.AddField(
            model_name="release",
            name="answering",
            field=models.JSONField(blank=True, default=dict, help_text=HELP),
        ),
        migrations.RunPython(move_max_sources, move_max_items_back),
        migrations.RemoveField(model_name="historicalrelease", name="gate"),
        migrations.RemoveField(model_name="historicalrelease", name="prompts"),
        migrations.RemoveField(model_name="historicalrelease", name="replies"),
        migrations.RemoveField(model_name="release", name="gate"),
        migrations.RemoveField(model_name="release", name="prompts"),
        migrations.RemoveField(model_name="release", name="replies"),
        migrations.AlterField(
            model_name="historicalrelease",
            name="flags",
            field=models.JSONField(blank=True, default=dict, help_text="Free-form switches (true/false, a number or text)."),
        ),
        migrations.AlterField(
            model_name="release",
            name="flags",
            field=models.JSONField(blank=True, default=dict, help_text="Free-form switches (true/false, a number or text)."),
        ),
        migrations.RunPython(_guard(NEW_FROZEN), drop_guard),
    ]
