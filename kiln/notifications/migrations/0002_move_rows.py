"""Move the notifications of review (``review.Notification``) and incidents (``incidents.Notification``)
into the one table; the two old models are deleted by review 0003 and incidents 0004, which run after.

Review's rows keep their key (unique per user already). Incidents' rows had no key: each gets
``incidents.notification:<old id>``; those with an incident or a response level are kind "incident",
the others (finding assignments) kind "screening". Times, read marks and the e-mailed flag are kept.
"""

from django.db import migrations

FIELDS = ("title", "body", "url", "created", "read_at", "emailed")


def move(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    # Keep the original times: the historical model's auto_now_add would overwrite them.
    Notification._meta.get_field("created").auto_now_add = False
    ReviewNotification = apps.get_model("review", "Notification")
    IncidentNotification = apps.get_model("incidents", "Notification")
    taken = set(Notification.objects.values_list("user_id", "key"))
    batch = []
    for old in ReviewNotification.objects.order_by("pk").iterator():
        if (old.user_id, old.key) in taken:
            continue
        taken.add((old.user_id, old.key))
        batch.append(
            Notification(
                user_id=old.user_id, kind=old.kind, key=old.key, **{f: getattr(old, f) for f in FIELDS}
            )
        )
    for old in IncidentNotification.objects.order_by("pk").iterator():
        key = f"incidents.notification:{old.pk}"
        if (old.user_id, key) in taken:
            continue
        batch.append(
            Notification(
                user_id=old.user_id,
                kind="incident" if old.incident_id or old.level else "screening",
                key=key,
                level=old.level,
                **{f: getattr(old, f) for f in FIELDS},
            )
        )
    Notification.objects.bulk_create(batch, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("review", "0002_alter_notification_read_at"),
        ("incidents", "0003_playbooks"),
    ]
    # Backwards: nothing to do (review 0003 and incidents 0004 recreate their tables empty when reversed).
    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
