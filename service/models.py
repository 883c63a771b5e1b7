"""Tables: sites and their keys, allow/block rules, and every check with its later labels."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


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
