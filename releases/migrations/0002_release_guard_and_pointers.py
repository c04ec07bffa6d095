"""Database guard for released bundles, and the two channel pointers.

The trigger is the last of three guards (services, model/queryset, database): whatever SQL runs,
a release that left draft keeps its bundle, and never goes back to draft. Status changes stay
allowed (canary → stable → retired ...). Other database vendors rely on the Python guards.
"""

from django.db import migrations

FROZEN = ("version", "image_tag", "prompts", "gate", "eval_thresholds", "replies", "flags", "notes",
          "author_kind", "author_id", "author_label", "created_at")

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION releases_release_guard() RETURNS trigger AS $$
BEGIN
  IF OLD.status <> 'draft' THEN
    IF NEW.status = 'draft' THEN
      RAISE EXCEPTION 'release % left draft; it cannot go back to draft', OLD.version;
    END IF;
    IF ({", ".join("NEW." + f for f in FROZEN)}) IS DISTINCT FROM ({", ".join("OLD." + f for f in FROZEN)}) THEN
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

SQLITE_CREATE = f"""
CREATE TRIGGER releases_release_guard BEFORE UPDATE ON releases_release
FOR EACH ROW WHEN OLD.status <> 'draft' AND (
  NEW.status = 'draft' OR {" OR ".join(f"NEW.{f} IS NOT OLD.{f}" for f in FROZEN)}
)
BEGIN
  SELECT RAISE(ABORT, 'release is immutable once it leaves draft');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS releases_release_guard;"


def create_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE, params=None)


def drop_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)


def create_pointers(apps, schema_editor):
    pointer = apps.get_model("releases", "ReleasePointer")
    for channel in ("stable", "canary"):
        pointer.objects.get_or_create(channel=channel)


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_initial")]

    operations = [
        migrations.RunPython(create_guard, drop_guard),
        migrations.RunPython(create_pointers, migrations.RunPython.noop),
    ]
