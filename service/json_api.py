"""The JSON API under /api/v1: check comments one by one or in batches, read checks, label them.

Every endpoint but GET /openapi.json needs `Authorization: Bearer <site key>`. Every error is
`{"error": message}` with its HTTP status. service/openapi.json documents it all.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.orm import Session

from model import Explanation
from service.bulk_insert import insert_checks
from service.checking import (
    CheckOutcome,
    check_row,
    decide,
    explanation_of,
    label_check,
    thresholds_for,
)
from service.context import (
    check_with,
    find_stored,
    get_check_ids,
    get_model,
    get_settings,
    get_site_cache,
)
from service.db import get_session
from service.errors import json_error
from service.models import Check, Label, LabelSource, as_utc, utc_now
from service.sites import CachedSite

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"
VIA = "api"
REQUIRED_FIELD = "comment_content"
# Check ids are PostgreSQL integers: a larger id in a URL is simply not found.
_ID = "int(max=2147483647)"

P = ParamSpec("P")


class ApiError(Exception):
    """A request the API refuses; the message goes into the `error` field."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_error(str(exc), exc.status)


def _unauthorized(message: str) -> Response:
    response = json_error(message, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="spamward"'
    return response


def bearer_key(header: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` header: "" when absent, None when malformed."""
    header = header.strip()
    if not header:
        return ""
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def authorized(view: Callable[P, Response]) -> Callable[P, Response]:
    """Let the view run only for a known site key; the site is then in `g.site`."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = bearer_key(request.headers.get("Authorization", ""))
        if key == "":
            return _unauthorized("missing API key: send Authorization: Bearer <key>")
        if key is None:
            return _unauthorized("malformed Authorization header: send Authorization: Bearer <key>")
        site = get_site_cache().lookup(get_session, key)
        if site is None:
            return _unauthorized("invalid API key")
        g.site = site
        return view(*args, **kwargs)

    return wrapper


def current_site() -> CachedSite:
    """The site whose key authorized this request."""
    site: CachedSite = g.site
    return site


def read_json() -> Any:
    """The request body parsed as JSON, which must be UTF-8.

    :raises ApiError: for an empty body, bytes that are not UTF-8, or malformed JSON.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError("the request body is empty: send a JSON object")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(
            f"the request body is not valid UTF-8 (bad byte at offset {exc.start})"
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(f"malformed JSON: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        raise ApiError(f"malformed JSON: {exc.__class__.__name__}") from exc


def _json_type(value: Any) -> str:
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _shown(value: Any, limit: int = 60) -> str:
    """A JSON value for an error message, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Unstorable(ValueError):
    """Why a key or value cannot be stored as it is (the message's end)."""


def _utf8_size(text: str) -> int:
    """The UTF-8 size of a key or value that can be stored as it is.

    :raises _Unstorable: for lone surrogates (from `\\ud800` escapes) or NUL characters.
    """
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise _Unstorable("is not valid Unicode (a lone surrogate)") from exc
    if "\x00" in text:
        raise _Unstorable("contains a NUL character")
    return size


def read_comment(data: Any, limit: int, where: str = "") -> dict[str, str]:
    """Check one comment: an object of strings with comment_content; return it as given.

    `where` prefixes the names in messages (`comments[3].`) for batch items. Messages are only
    written when there is something wrong: this runs for every check.

    :raises ApiError: 400 for a wrong shape, 413 for a value over `limit` bytes.
    """
    if not isinstance(data, dict):
        subject = where.rstrip(".") or "the request body"
        raise ApiError(f"{subject} must be a JSON object, got {_json_type(data)}")
    if not _plainly_storable(data, limit):
        _refuse_fields(data, limit, where)
    if REQUIRED_FIELD not in data:
        raise ApiError(f"{where}{REQUIRED_FIELD} is required")
    comment: dict[str, str] = data
    return comment


def _plainly_storable(data: dict[Any, Any], limit: int) -> bool:
    """Whether every name and value is a string that can be stored as it is, and all of them
    together fit in `limit` bytes (so that none can be over it): the usual check, at once.

    One encoding of everything joined, where checking field by field ran Python code for each
    name and value. Joining makes no NUL, and Python joins no surrogates into pairs.
    """
    try:
        joined = "".join(itertools.chain(data, data.values()))
        size = len(joined.encode("utf-8"))
    except (TypeError, UnicodeEncodeError):
        return False
    return size <= limit and "\x00" not in joined


def _refuse_fields(data: dict[Any, Any], limit: int, where: str) -> None:
    """Raise the error for the first field that cannot be stored, if any.

    :raises ApiError: 400 for a wrong shape, 413 for a value over `limit` bytes.
    """
    for name, value in data.items():
        try:
            name_size = _utf8_size(name)
        except _Unstorable as exc:
            raise ApiError(f"field name {_shown(_field(where, name))} {exc}") from exc
        if name_size > limit:
            raise ApiError(
                f"field name {_field(where, name)} is over the limit of {limit} bytes", 413
            )
        if not isinstance(value, str):
            raise ApiError(f"{_field(where, name)} must be a string, got {_json_type(value)}")
        try:
            size = _utf8_size(value)
        except _Unstorable as exc:
            raise ApiError(f"{_field(where, name)} {exc}") from exc
        if size > limit:
            raise ApiError(
                f"{_field(where, name)} is {size} bytes; the limit is {limit} bytes", 413
            )


def _field(where: str, name: str) -> str:
    """A field's name for a message: long names cut short."""
    return where + (name if len(name) <= 100 else _shown(name))


# The `explain` query parameter's words, as the OpenAPI document lists them.
EXPLAIN_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def explain_flag(raw: str) -> bool:
    """The `explain` query parameter's value: true unless it says false (any case).

    :raises ApiError: for any other word.
    """
    word = raw.strip().lower()
    flag = EXPLAIN_WORDS.get(word)
    if flag is None:
        raise ApiError(f"explain must be true or false, got {word!r}")
    return flag


def _explain_param() -> bool:
    return explain_flag(request.args.get("explain", "true"))


def answered_explanation(
    explanation: dict[str, Any], unexplained: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A check's explanation as an answer shows it. One left for reading (`explain=false`,
    stored deferred) shows `unexplained` (by default no tokens and no signals) and its rules."""
    if not explanation.get("deferred"):
        return explanation
    return {"tokens": [], "signals": [], **(unexplained or {}), "rules": explanation["rules"]}


def check_answer(outcome: CheckOutcome) -> dict[str, Any]:
    """The answer to POST /check: the verdict as stored.

    Without the explanation, no `bias` either: the model that scored the check was taken inside
    `check_with`, and the one loaded now may already be another.
    """
    answer = outcome.as_dict()
    answer["explanation"] = answered_explanation(outcome.explanation)
    return answer


@bp.post("/check")
@authorized
def check_comment() -> Response:
    """Check one comment, store the check (in the background with write-behind), and return
    the verdict with the check's id.

    With `explain=false` the check is stored with its explanation deferred, as comment-check's
    are: GET /comments/{id} and the moderation queue compute it when they show the check.
    """
    explain = _explain_param()
    fields = read_comment(read_json(), get_settings().max_content_bytes)
    outcome = check_with(
        current_app.extensions,
        get_session,
        current_site(),
        fields,
        VIA,
        explain=explain,
        answer_id=True,
    )
    return jsonify(check_answer(outcome))


def store_checks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert a batch's rows, ids included, in one transaction."""
    insert_checks(session.connection(), rows)
    session.commit()


def _read_batch(data: Any) -> list[dict[str, str]]:
    if not isinstance(data, dict):
        raise ApiError(f"the request body must be a JSON object, got {_json_type(data)}")
    comments = data.get("comments")
    if not isinstance(comments, list):
        raise ApiError(f"comments must be an array of comment objects, got {_json_type(comments)}")
    if not comments:
        raise ApiError("comments is empty: send at least one comment")
    settings = get_settings()
    limit = settings.max_batch
    if len(comments) > limit:
        raise ApiError(
            f"the batch has {len(comments)} comments; the limit is {limit} per request", 413
        )
    return [
        read_comment(item, settings.max_content_bytes, f"comments[{index}].")
        for index, item in enumerate(comments)
    ]


@bp.post("/check/batch")
@authorized
def check_comments() -> Response:
    """Check many comments; store them all in one transaction, or none if any is bad.

    With `explain=false` the checks are stored with their explanations deferred, as single
    checks' are, and each answer shows the model's bias without tokens or signals.
    """
    explain = _explain_param()
    batch = _read_batch(read_json())
    session, site, model = get_session(), current_site(), get_model()
    rules = list(site.rules)
    thresholds = thresholds_for(site, get_settings().thresholds)
    verdicts = [decide(model, fields, rules, thresholds, explain) for fields in batch]
    # Unexplained answers keep the model's bias, as they always have on a batch (its model is
    # the one taken here, unlike a single check's).
    unexplained = Explanation([], [], model.fast.bias).as_dict()
    created = utc_now()
    ids = get_check_ids().take(len(batch))
    rows = [
        check_row(site.id, fields, v, model.version, VIA, created, check_id)
        for check_id, fields, v in zip(ids, batch, verdicts, strict=True)
    ]
    store_checks(session, rows)
    checks = [
        CheckOutcome(
            check_id,
            row["guid"],
            v.probability,
            v.decision,
            v.discard,
            answered_explanation(v.explanation, unexplained),
            model.version,
        ).as_dict()
        for check_id, row, v in zip(ids, rows, verdicts, strict=True)
    ]
    return jsonify(checks=checks)


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which were stored in UTC."""
    return None if moment is None else as_utc(moment).astimezone(UTC).isoformat()


def check_view(check: Check) -> dict[str, Any]:
    """A stored check as GET /comments/{id} shows it."""
    return {
        "id": check.id,
        "guid": check.guid,
        "created_at": _iso(check.created_at),
        "via": check.via,
        "fields": check.fields,
        "probability": check.probability,
        "decision": check.decision,
        "discard": check.discard,
        "explanation": explanation_of(get_model(), check),
        "model_version": check.model_version,
        "is_test": check.is_test,
        "status": _status(check),
        "label": check.label,
        "label_source": check.label_source,
        "labelled_at": _iso(check.labelled_at),
        "labelled_by": check.labelled_by,
        "deleted_at": _iso(check.deleted_at),
    }


def _status(check: Check) -> str:
    if check.label is not None:
        return "labelled"
    return "decided" if check.deleted_at is None else "deleted"


def _own_check(session: Session, check_id: int) -> Check:
    """The site's check with this id.

    :raises ApiError: 404 when there is none, whether unknown or another site's.
    """
    # An id handed out but not stored yet waits in a writer, this process's or another's.
    check = find_stored(
        session,
        lambda: session.get(Check, check_id, populate_existing=True),
        lambda: get_check_ids().was_issued(check_id),
    )
    if check is None or check.site_id != current_site().id:
        raise ApiError(f"no comment {check_id} for this site", 404)
    return check


@bp.get(f"/comments/<{_ID}:id>")
@authorized
def get_comment(id: int) -> Response:
    """One stored check of the site."""
    return jsonify(check_view(_own_check(get_session(), id)))


@bp.post(f"/comments/<{_ID}:id>/feedback")
@authorized
def feedback(id: int) -> Response:
    """Record the site's label (spam or ham) on one of its checks."""
    session = get_session()
    check = _own_check(session, id)
    data = read_json()
    if not isinstance(data, dict):
        raise ApiError(f"the request body must be a JSON object, got {_json_type(data)}")
    label = data.get("label")
    if label not in (Label.SPAM.value, Label.HAM.value):
        raise ApiError(f'label must be "spam" or "ham", got {_shown(label)}')
    label_check(session, check, Label(label), LabelSource.SITE)
    return jsonify(check_view(check))


@functools.cache
def _openapi_text() -> str:
    return OPENAPI_FILE.read_text(encoding="utf-8")


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document of this API; no key needed."""
    return Response(_openapi_text(), mimetype="application/json")
