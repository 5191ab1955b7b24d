"""Export files kept in chunks (``ExportChunk``) instead of one ``ExportJob.content`` value: the
files already written are cut into chunks before the column goes, so their downloads still work."""

import django.db.models.deletion
from django.db import migrations, models

CHUNK_SIZE = 512 * 1024  # ExportChunk.CHUNK_SIZE when this was written


def content_to_chunks(apps, schema_editor):
    ExportJob = apps.get_model("bookings_app", "ExportJob")
    ExportChunk = apps.get_model("bookings_app", "ExportChunk")
    for pk in ExportJob.objects.filter(content__isnull=False).values_list("pk", flat=True).iterator():
        content = bytes(ExportJob.objects.filter(pk=pk).values_list("content", flat=True).get())
        for seq, start in enumerate(range(0, len(content), CHUNK_SIZE)):
            ExportChunk.objects.create(job_id=pk, seq=seq, data=content[start : start + CHUNK_SIZE])


def chunks_to_content(apps, schema_editor):
    ExportJob = apps.get_model("bookings_app", "ExportJob")
    ExportChunk = apps.get_model("bookings_app", "ExportChunk")
    for pk in ExportChunk.objects.values_list("job_id", flat=True).distinct():
        data = ExportChunk.objects.filter(job_id=pk).order_by("seq").values_list("data", flat=True)
        ExportJob.objects.filter(pk=pk).update(content=b"".join(bytes(d) for d in data))


class Migration(migrations.Migration):
    dependencies = [
        ("bookings_app", "0020_drift_action_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportChunk",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveIntegerField()),
                ("data", models.BinaryField()),
                (
                    "job",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunks",
                        to="bookings_app.exportjob",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("job", "seq"), name="export_chunk_job_seq")],
            },
        ),
        migrations.RunPython(content_to_chunks, chunks_to_content),
        migrations.RemoveField(
            model_name="exportjob",
            name="content",
        ),
    ]
