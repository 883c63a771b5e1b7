"""Akismet's REST API, byte for byte: what Akismet clients and plugins expect.

Reference: Automattic's OpenAPI spec for rest.akismet.com (see ../shared/reference). Every
answer is HTTP 200 text/plain; errors say `invalid` (a bad key) or a short message, with the
reason in X-akismet-debug-help.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote_to_bytes

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from model import Decision
from service.checking import CheckOutcome, check_and_store, find_check_for_feedback, label_check
from service.context import (
    check_with,
    find_stored,
    flush_writes,
    get_check_ids,
    get_model,
    get_settings,
    get_site_cache,
)
from service.db import get_session
from service.errors import akismet_error
from service.models import Check, Label, LabelSource
from service.sites import CachedSite

bp = Blueprint("akismet", __name__)

THANKS = "Thanks for making the web a better place."
REQUIRED = ("blog", "user_ip")
# Never stored: a check's fields are shown to moderators and exported.
SECRET_FIELDS = frozenset({"api_key", "key"})
# Fields whose size is limited; an oversized one is refused, never cut.
TEXT_FIELDS = ("comment_content", "comment_author", "comment_author_email", "comment_author_url")


class BadRequest(Exception):
    """The request cannot be read; the message goes into X-akismet-debug-help."""

    def __init__(self, message: str, body: str) -> None:
        super().__init__(message)
        self.body = body


def _text(body: str) -> Response:
    return Response(body, status=200, mimetype="text/plain")


def form_charset(declared: str | None, body: bytes) -> str:
    """The charset a form is in: the Content-Type's, else blog_charset's, else UTF-8."""
    if declared:
        return declared
    if b"blog_charset" in body:
        for name, value in parse_qsl(body.decode("latin-1")):
            if name == "blog_charset" and value:
                return value
    return "utf-8"


def is_utf8(charset: str) -> bool:
    """Whether a charset name means UTF-8 (any spelling Python knows); False if unknown."""
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


def form_pairs(text: str, charset: str) -> list[tuple[str, str]]:
    """`parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")`, in a
    fraction of the time for UTF-8: every name and value is unquoted at once, joined by NUL.

    NUL can only come from the form itself, which then takes parse_qsl's own path (and is
    refused). A NUL byte cannot complete a multi-byte UTF-8 sequence, so the joined text
    decodes exactly when every part does; only a refusal's message may name another byte.
    """
    if "\x00" in text or "%00" in text or not is_utf8(charset):
        return parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")
    parts: list[str] = []
    for item in text.split("&"):
        if item:
            name, _, value = item.partition("=")
            parts += (name, value)
    if not parts:
        return []
    joined = "\x00".join(parts).replace("+", " ").encode("utf-8", "surrogatepass")
    flat = percent_decoded(joined).decode("utf-8", "strict").split("\x00")
    return list(zip(flat[::2], flat[1::2], strict=True))


# A % that does not start an escape: parse_qsl keeps it as it stands.
_NOT_AN_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def percent_decoded(raw: bytes) -> bytes:
    """`unquote_to_bytes(raw)`, in C: each %XX becomes \\xXX for the unicode_escape codec.

    Backslashes are doubled first, so the codec sees no other escape; it reads every other byte
    as Latin-1, which encodes back to the same byte. A stray % takes the stdlib's loop.
    """
    if b"%" not in raw:
        return raw
    if _NOT_AN_ESCAPE.search(raw):
        return unquote_to_bytes(raw)
    escaped = raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x")
    return codecs.decode(escaped, "unicode_escape").encode("latin-1")


def decode_form(raw: bytes, charset: str) -> dict[str, str]:
    """Decode a form strictly in `charset`; repeated `name[]` fields are joined.

    :raises BadRequest: for bytes that are not valid in that charset, or a NUL character.
    """
    try:
        pairs = form_pairs(raw.decode(charset), charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise BadRequest(f"Request is not valid {charset}: {exc}", "Invalid request.") from exc
    # One search of the names and values joined (NUL is one character: no join makes one),
    # where a generator over the pairs ran Python code per field.
    if "\x00" in "".join(itertools.chain.from_iterable(pairs)):
        # No database stores NUL in text, and no comment needs it.
        raise BadRequest("Request holds a NUL character.", "Invalid request.")
    form: dict[str, str] = {}
    for name, value in pairs:
        # comment_context[] and friends arrive repeated: keep them joined.
        key = name.removesuffix("[]")
        form[key] = f"{form[key]}, {value}" if key in form else value
    return form


def read_form() -> dict[str, str]:
    """The request's form (body, or query string for GET), decoded in its declared charset.

    :raises BadRequest: for bytes that are not valid in that charset.
    """
    raw = request.get_data(as_text=False) if request.method == "POST" else b""
    raw = raw or request.query_string
    return decode_form(raw, form_charset(request.mimetype_params.get("charset"), raw))


def form_key(form: Mapping[str, str]) -> str:
    """The key given in the form, as `api_key` or `key`."""
    return (form.get("api_key") or form.get("key") or "").strip()


def _key_from(form: Mapping[str, str]) -> str:
    """The key: `api_key` or `key` in the form, else the Host's first label (`KEY.host`)."""
    key = form_key(form)
    if not key:
        host = request.host.split(":", 1)[0]
        label = host.split(".", 1)[0] if host.count(".") >= 2 else ""
        key = label.strip() if len(label) == 32 else ""
    return key


def _site(form: Mapping[str, str]) -> CachedSite | None:
    return get_site_cache().lookup(get_session, _key_from(form))


def comment_fields(form: Mapping[str, str]) -> dict[str, str]:
    """The form as stored with a check: without the key, which is only ever kept hashed."""
    return {name: value for name, value in form.items() if name not in SECRET_FIELDS}


def check_limits(form: Mapping[str, str], limit: int) -> None:
    """Refuse a form whose text fields exceed `limit` bytes.

    :raises BadRequest: naming the first field over the limit.
    """
    for name in TEXT_FIELDS:
        size = len(form.get(name, "").encode("utf-8"))
        if size > limit:
            raise BadRequest(f"{name} is {size} bytes; the limit is {limit}.", "Comment too large.")


def missing_field(form: Mapping[str, str]) -> str | None:
    return next((name for name in REQUIRED if not form.get(name, "").strip()), None)


def _header_safe(message: str) -> str:
    """The message as printable ASCII: it may quote the request, and a header value must not
    hold newlines (werkzeug refuses them) or non-Latin-1 text (the WSGI server cannot send it)."""
    return "".join(
        ch if " " <= ch <= "~" else ch.encode("unicode_escape").decode("ascii") for ch in message
    )


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Response:
    return akismet_error(_header_safe(str(exc)), body=exc.body)


@bp.post("/1.1/verify-key")
def verify_key() -> Response:
    """`valid` for a known key, `invalid` otherwise."""
    form = read_form()
    if _site(form) is None:
        return akismet_error(
            "Invalid API key. Check the key or create one with `spamward sites add`."
        )
    return _text("valid")


def _comment_request() -> tuple[CachedSite, dict[str, str]] | Response:
    """Read and check a comment-check or submit form: the site and the fields to store,
    or the Akismet error to answer with."""
    form = read_form()
    site = _site(form)
    if site is None:
        return akismet_error("Invalid API key.")
    missing = missing_field(form)
    if missing:
        return akismet_error(f'Empty "{missing}" value', body=f"Missing required field: {missing}.")
    check_limits(form, get_settings().max_content_bytes)
    return site, comment_fields(form)


@bp.post("/1.1/comment-check")
def comment_check() -> Response:
    """`true` (spam or unsure, held back) or `false` (ham), with the check's guid."""
    parsed = _comment_request()
    if isinstance(parsed, Response):
        return parsed
    site, fields = parsed
    # The answer carries no explanation (computed when someone reads the check) and no id (a
    # queued check takes one when stored).
    outcome = check_with(
        current_app.extensions, get_session, site, fields, "akismet", explain=False, answer_id=False
    )
    response = _text(verdict_body(outcome))
    for name, value in verdict_headers(outcome):
        response.headers[name] = value
    return response


def verdict_body(outcome: CheckOutcome) -> str:
    """Akismet's answer: `false` for ham, `true` for spam and unsure (held back)."""
    return "false" if outcome.decision is Decision.HAM else "true"


def verdict_headers(outcome: CheckOutcome) -> list[tuple[str, str]]:
    """The headers a comment-check answer carries besides Content-Type and Content-Length."""
    headers = [("X-akismet-guid", outcome.guid)]
    if outcome.discard:
        headers.append(("X-akismet-pro-tip", "discard"))
    headers.append(("X-spamward-decision", str(outcome.decision)))
    headers.append(("X-spamward-probability", f"{outcome.probability:.4f}"))
    return headers


def _submit(label: Label) -> Response:
    parsed = _comment_request()
    if isinstance(parsed, Response):
        return parsed
    site, fields = parsed
    session = get_session()
    guid = fields.get("guid", "") or request.headers.get("X-akismet-guid", "")
    # The check may still be queued in this process, or in another process's writer.
    check = find_stored(session, lambda: find_check_for_feedback(session, site, fields, guid))
    if check is None:
        # Feedback on a comment never checked here: store it so that it can still train.
        settings = get_settings()
        outcome = check_and_store(
            get_session, site, fields, "akismet", get_model(), settings.thresholds, get_check_ids()
        )
        check = session.get(Check, outcome.id)
    if check is not None:
        label_check(session, check, label, LabelSource.SITE)
    return _text(THANKS)


@bp.post("/1.1/submit-spam")
def submit_spam() -> Response:
    """Record that a comment is spam."""
    return _submit(Label.SPAM)


@bp.post("/1.1/submit-ham")
def submit_ham() -> Response:
    """Record that a comment is ham."""
    return _submit(Label.HAM)


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadRequest(
            f"month must look like 2026-11, got {month!r}", "Invalid request."
        ) from exc
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def _site_counts(
    session: Session, site: CachedSite, start: datetime, end: datetime
) -> dict[str, int]:
    """API calls, spam, ham, missed spam and false positives of a site in [start, end)."""
    base = (
        select(func.count())
        .select_from(Check)
        .where(
            Check.site_id == site.id,
            Check.created_at >= start,
            Check.created_at < end,
            Check.is_test.is_(False),
        )
    )

    def count(*where: ColumnElement[bool]) -> int:
        return int(session.scalar(base.where(*where)) or 0)

    return {
        "api_calls": count(),
        "spam": count(Check.decision != Decision.HAM.value),
        "ham": count(Check.decision == Decision.HAM.value),
        "missed_spam": count(Check.decision == Decision.HAM.value, Check.label == Label.SPAM.value),
        "false_positives": count(
            Check.decision != Decision.HAM.value, Check.label == Label.HAM.value
        ),
    }


@bp.get("/1.2/usage-limit")
def usage_limit() -> Response:
    """This key's usage this month; Spamward sets no limit."""
    form = read_form()
    session = get_session()
    site = _site(form)
    if site is None:
        return akismet_error("Invalid API key.")
    start, end = _month_bounds(datetime.now(UTC).strftime("%Y-%m"))
    flush_writes()
    usage = _site_counts(session, site, start, end)["api_calls"]
    return jsonify(limit="none", usage=usage, percentage="0.00", throttled=False)


@bp.get("/1.2/key-sites")
def key_sites() -> Response:
    """The key's site with its counts for a month, as JSON (default) or CSV."""
    form = read_form()
    session = get_session()
    site = _site(form)
    if site is None:
        return akismet_error("Invalid API key.")
    month = form.get("month") or datetime.now(UTC).strftime("%Y-%m")
    flush_writes()
    counts = _site_counts(session, site, *_month_bounds(month))
    row = {"site": site.url, **counts, "is_revoked": False}
    if form.get("format", "json").lower() == "csv":
        return _key_sites_csv(_key_from(form), month, [row])
    return jsonify({month: [row], "limit": 500, "offset": 0, "total": 1})


def _key_sites_csv(key: str, month: str, rows: list[dict[str, object]]) -> Response:
    out = io.StringIO()
    out.write(f"Active sites for {key} during {month} (limit:500, offset: 0, total: {len(rows)})\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["Site", "Total API Calls", "Spam", "Ham", "Missed Spam", "False Positives", "Is Revoked"]
    )
    for r in rows:
        writer.writerow(
            [
                r["site"],
                r["api_calls"],
                r["spam"],
                r["ham"],
                r["missed_spam"],
                r["false_positives"],
                str(r["is_revoked"]).lower(),
            ]
        )
    return Response(out.getvalue(), status=200, mimetype="text/csv")
