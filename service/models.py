"""Tables: sites and their keys, allow/block rules, and every check with its later labels."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Checks waiting for a moderator: flagged, not discarded, not labelled, not deleted.
_QUEUE_WHERE = (
    "decision IN ('unsure', 'spam') AND NOT discard AND label IS NULL AND deleted_at IS NULL"
)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as timezone-aware UTC: SQLite hands back naive ones, stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Label(StrEnum):
    """A human verdict on a check."""

    SPAM = "spam"
    HAM = "ham"


class LabelSource(StrEnum):
    """Who gave a label: the site (submit-spam/ham, feedback) or a moderator."""

    SITE = "site"
    MODERATOR = "moderator"


class RuleList(StrEnum):
    """Allow rules make a comment ham, block rules make it spam; block wins over allow."""

    ALLOW = "allow"
    BLOCK = "block"


class RuleField(StrEnum):
    """What a rule matches."""

    EMAIL = "email"
    EMAIL_DOMAIN = "email-domain"
    URL_DOMAIN = "url-domain"
    IP = "ip"  # an address or a CIDR range
    KEYWORD = "keyword"
    REGEX = "regex"


class Site(Base):
    """A site that sends comments, with its hashed API key and own thresholds."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    unsure_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    spam_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    discard_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # Kept as given: the service needs it to sign each webhook with HMAC-SHA256.
    webhook_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Rule(Base):
    """One allow or block list entry of a site."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    list: Mapped[str] = mapped_column(String(10))
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Check(Base):
    """One comment as the site sent it, the verdict, and any label given later."""

    __tablename__ = "checks"
    __table_args__ = (
        Index("ix_checks_site_created", "site_id", "created_at"),
        Index("ix_checks_decision_created", "decision", "created_at"),
        # The moderation queue: newest unreviewed unsure/spam checks (partial on both databases).
        Index(
            "ix_checks_queue",
            "created_at",
            sqlite_where=text(_QUEUE_WHERE),
            postgresql_where=text(_QUEUE_WHERE),
        ),
        # Counts of waiting checks per decision and site, read from the index alone.
        Index(
            "ix_checks_queue_decision",
            "decision",
            "site_id",
            sqlite_where=text(_QUEUE_WHERE),
            postgresql_where=text(_QUEUE_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    via: Mapped[str] = mapped_column(String(10))  # akismet or api
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    content: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(500), default="")
    user_ip: Mapped[str] = mapped_column(String(64), default="")
    probability: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(10))
    discard: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(64))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(String(10), nullable=True)
    label_source: Mapped[str | None] = mapped_column(String(10), nullable=True)
    labelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    labelled_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # moderator name
    # A moderator's "delete": out of the queue, no label, still counted and audited.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Role(StrEnum):
    """What a user may do: moderators review the queue, admins also manage models and sites."""

    MODERATOR = "moderator"
    ADMIN = "admin"


class Action(StrEnum):
    """What a moderator did to a check; `undo` reverts that moderator's earlier action."""

    APPROVE = "approve"  # labels the check ham
    SPAM = "spam"  # labels the check spam
    DELETE = "delete"  # removes it from the queue without a label
    UNDO = "undo"


class User(Base):
    """A person who signs in to the moderation pages."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class UserSite(Base):
    """Limits a moderator to some sites; a moderator with no rows here sees every site."""

    __tablename__ = "user_sites"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class Decision(Base):
    """The audit log: one row per moderator action, never edited, never deleted by the UI."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    user_name: Mapped[str] = mapped_column(String(100))  # kept when the user is removed
    action: Mapped[str] = mapped_column(String(10))
    # The check's label and deleted flag before this action, so an undo can restore them.
    previous_label: Mapped[str | None] = mapped_column(String(10), nullable=True)
    previous_label_source: Mapped[str | None] = mapped_column(String(10), nullable=True)
    previous_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    undone_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the undo's decision id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class WebhookEvent(Base):
    """An outbox row: one signed POST owed to a site, kept until delivered or given up."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[int | None] = mapped_column(
        ForeignKey("checks.id", ondelete="SET NULL"), nullable=True
    )
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed and sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ModelVersion(Base):
    """A trained model in the registry: its card and artifact bytes, verified before loading.

    The artifact lives in the database so that every instance sharing it can load any version.
    """

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    card: Mapped[str] = mapped_column(Text)  # card.json as written
    artifact: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    origin: Mapped[str] = mapped_column(String(20))  # shipped, import or retrain
    # The gate's verdict and figures when a retraining produced it (null otherwise).
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Promotion(Base):
    """One change of the live model; the newest row names the champion every instance serves."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    previous_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(20))  # promote or rollback
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class JobStatus(StrEnum):
    """Where a background job is."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(Base):
    """A background job (a retraining), with its progress; at most one holds the lock."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # The kind while running, NULL after: a unique column lets the database refuse a second one.
    lock: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    progress: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CheckIdCounter(Base):
    """Where SQLite reserves blocks of check ids (service.check_ids); one row, `checks`."""

    __tablename__ = "check_id_counter"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)
