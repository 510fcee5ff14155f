"""Monthly activity data as reported, the batches that brought it in, and the monthly evidence deposit.

One ``ActivityRecord`` is one enterprise × month × item (× facility) in the interchange
format of DESIGN.md. History is never overwritten: a correction adds a new version and
marks the old one not current (DESIGN.md rule 7).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """One attempt to bring in activity data through any door.

    Imported batches own their records, the stored original and a ledger entry. Rejected
    batches and dry runs keep only their error report (no records, no file), so the report
    can be fetched again by the API and downloaded from the upload page.
    """

    class Door(models.TextChoices):
        API = "api", _("REST API")
        UPLOAD = "upload", _("file upload")
        SQL = "sql", _("external database")
        CLI = "cli", _("command line")
        DEMO = "demo", _("demo data")

    class Status(models.TextChoices):
        IMPORTED = "imported", _("imported")
        REJECTED = "rejected", _("rejected")
        CHECKED = "checked", _("checked (dry run)")

    door = models.CharField(_("door"), max_length=8, choices=Door.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    dry_run = models.BooleanField(_("dry run"), default=False)
    organisation = models.ForeignKey(
        "registry.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    # SHA-256 of what was submitted (file bytes or canonical JSON): a retried request must match it.
    fingerprint = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    file_path = models.CharField(_("stored file"), max_length=255, blank=True)
    source_format = models.CharField(_("format"), max_length=32, blank=True)
    rows_sha256 = models.CharField(_("SHA-256 of the normalised rows"), max_length=64, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    corrected_count = models.PositiveIntegerField(_("corrected rows"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    correction_reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    # {"counts": {code: n}, "errors": [{row, column, value, code, detail}, ...], "truncated": bool}
    report = models.JSONField(_("error report"), default=dict, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    sql_source = models.ForeignKey(
        "intake.SqlSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="batch_idempotency_unique",
            )
        ]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"#{self.pk} {self.door} {self.status} ({self.row_count})"


class ScanIndex(models.Index):
    """An index for scans over bulk-loaded rows: BRIN on PostgreSQL, B-tree elsewhere.

    Activity rows arrive a batch at a time and mostly month after month, so their batch and period
    follow the physical order of the table. A BRIN index keeps one summary per range of pages
    instead of an entry per row: a million-row COPY kept ~1.3 s faster (bench/intake), and finding
    a batch or a month still reads only the page ranges that hold it.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        statement = super().create_sql(model, schema_editor, using=" USING brin", **kwargs)
        # Summarise each page range as soon as it fills, not at the next VACUUM.
        statement.parts["extra"] = " WITH (autosummarize = on)" + statement.parts["extra"]
        return statement


class ActivityRecord(models.Model):
    # Bulk-loaded by the million (kiln.intake.writers), so the table carries only what queries need:
    # - no database-level foreign keys: PostgreSQL checks them one row at a time at commit, which cost
    #   ~16 s per million rows on the bench machine (bench/intake). Integrity comes from the writer: the
    #   validator resolved every enterprise id in the same transaction, the batch row is written first,
    #   neither enterprises nor batches are ever deleted, and the ORM still PROTECTs them;
    # - no index on enterprise alone: the unique (enterprise, period, item, facility) index leads with it;
    # - batch and period get a ScanIndex (BRIN on PostgreSQL).
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="activity",
        db_index=False,
        db_constraint=False,
    )
    period = models.CharField(_("period"), max_length=7, help_text="YYYY-MM")
    item = models.CharField(_("item"), max_length=64)
    quantity = models.FloatField(_("quantity"), help_text=_("as reported, in the reported unit"))
    unit = models.CharField(_("unit"), max_length=24)
    canonical_quantity = models.FloatField(_("quantity in the canonical unit"))
    source = models.CharField(_("data source"), max_length=16, blank=True)
    facility = models.CharField(_("facility"), max_length=80, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="records", db_index=False, db_constraint=False
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    current = models.BooleanField(_("current"), default=True)
    reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    # Set when a correction replaces this version: the batch (who, when, why) that did it.
    superseded_by = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        indexes = [
            ScanIndex(fields=["period", "enterprise"], name="activity_period_ent"),
            ScanIndex(fields=["batch"], name="activity_batch"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period", "item", "facility"],
                condition=Q(current=True),
                name="activity_one_current_version",
            )
        ]
        verbose_name = _("activity record")
        verbose_name_plural = _("activity records")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.period} {self.item} v{self.version}"


class EnterpriseMonth(models.Model):
    """The state of one enterprise-month: frozen against changes, and its evidence deposit.

    Rows exist only for months something happened to (a freeze, a deposit); a missing row
    means "not frozen, nothing deposited".
    """

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="months")
    period = models.CharField(_("period"), max_length=7)
    frozen = models.BooleanField(_("frozen"), default=False)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    # Monthly evidence deposit (月度存证): the first deposit decides "on time" or "late".
    first_deposit_at = models.DateTimeField(_("first deposit"), null=True, blank=True)
    last_deposit_at = models.DateTimeField(_("last deposit"), null=True, blank=True)
    evidence_count = models.PositiveIntegerField(_("evidence files"), default=0)

    class Meta:
        ordering = ["enterprise", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "period"], name="enterprise_month_unique")
        ]
        indexes = [models.Index(fields=["period"], name="enterprise_month_period")]
        verbose_name = _("enterprise month")
        verbose_name_plural = _("enterprise months")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period}"


class FreezeChange(models.Model):
    """Every freeze and unfreeze of an enterprise-month, with who, when and why."""

    month = models.ForeignKey(EnterpriseMonth, on_delete=models.PROTECT, related_name="changes")
    frozen = models.BooleanField(_("frozen"))
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("freeze change")
        verbose_name_plural = _("freeze changes")

    def __str__(self) -> str:
        return f"{self.month} {'frozen' if self.frozen else 'unfrozen'}"


class EvidenceFile(models.Model):
    """One deposited evidence file, stored content-addressed and logged in the evidence ledger."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("invoice")
        METER_READING = "meter_reading", _("meter reading")
        LAB_REPORT = "lab_report", _("laboratory test report")
        STAMPED_LEDGER = "stamped_ledger", _("stamped ledger")
        OTHER = "other", _("other")

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="evidence")
    period = models.CharField(_("period"), max_length=7)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    cma_cnas = models.BooleanField(_("CMA/CNAS accredited laboratory"), default=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    path = models.CharField(_("stored file"), max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["enterprise", "-period", "-uploaded_at"]
        indexes = [models.Index(fields=["enterprise", "period"], name="evidence_enterprise_period")]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.period})"


class SqlSource(models.Model):
    """An external database (the standard's 中间库) that activity data is pulled from on a schedule.

    The connection URL is stored encrypted (``kiln.intake.secrets``) and only ever shown masked.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    url_encrypted = models.TextField(_("connection URL (encrypted)"), editable=False)
    url_display = models.CharField(_("connection"), max_length=255, editable=False, blank=True)
    query = models.TextField(
        _("query"),
        blank=True,
        help_text=_("A SELECT statement; leave empty to read the whole table below."),
    )
    table = models.CharField(_("table"), max_length=128, blank=True)
    # Kiln column key → source column name; empty: match the source's columns by header (English or Chinese).
    column_map = models.JSONField(_("column mapping"), default=dict, blank=True)
    watermark_column = models.CharField(
        _("watermark column"),
        max_length=128,
        help_text=_("An increasing column (id or update time); only rows above the last value are pulled."),
    )
    last_watermark = models.CharField(_("last watermark"), max_length=100, blank=True)
    max_rows = models.PositiveIntegerField(_("rows per sync"), default=200_000)
    corrections = models.BooleanField(
        _("treat re-sent rows as corrections"),
        default=False,
        help_text=_("When the source changes a row that was already imported, store a new version."),
    )
    acting_as = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("acting as"),
        help_text=_("Rows are checked against this membership's scope; empty: every enterprise."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    last_synced_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_status = models.CharField(_("last result"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("external SQL source")
        verbose_name_plural = _("external SQL sources")

    def __str__(self) -> str:
        return self.name
