"""Allow and block rules: pure functions that decide before the model when a rule matches."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from model.text import url_host
from service.models import RuleField, RuleList


class RuleValueError(ValueError):
    """A rule's value does not have the form its field needs."""


@dataclass(frozen=True)
class RuleSpec:
    """A rule as matching needs it."""

    list: str
    field: str
    value: str

    def describe(self) -> str:
        """`block email-domain=spam.example`, for explanations."""
        return f"{self.list} {self.field}={self.value}"


def validate_rule_value(field: RuleField, value: str) -> str:
    """Return the value in its stored form, or raise RuleValueError."""
    value = value.strip()
    if not value:
        raise RuleValueError("a rule needs a value")
    if field is RuleField.IP:
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise RuleValueError(f"not an IP address or CIDR range: {value!r}") from exc
    if field is RuleField.REGEX:
        try:
            re.compile(value)
        except re.error as exc:
            raise RuleValueError(f"not a valid regular expression: {exc}") from exc
        return value
    return value.lower()


def _domain_matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _ip_in(address: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip()) in ipaddress.ip_network(network)
    except ValueError:
        return False


def rule_matches(rule: RuleSpec, comment: Mapping[str, str]) -> bool:
    """Whether one rule matches a comment (Akismet field names)."""
    email = comment.get("comment_author_email", "").strip().lower()
    if rule.field == RuleField.EMAIL:
        return email == rule.value
    if rule.field == RuleField.EMAIL_DOMAIN:
        return "@" in email and _domain_matches(email.rsplit("@", 1)[1], rule.value)
    if rule.field == RuleField.URL_DOMAIN:
        url = comment.get("comment_author_url", "")
        return bool(url) and _domain_matches(url_host(url), rule.value)
    if rule.field == RuleField.IP:
        return _ip_in(comment.get("user_ip", ""), rule.value)
    text = " ".join(comment.get(k, "") for k in ("comment_content", "comment_author"))
    if rule.field == RuleField.KEYWORD:
        return rule.value in text.lower()
    if rule.field == RuleField.REGEX:
        return re.search(rule.value, text, re.IGNORECASE) is not None
    return False


def first_match(rules: Iterable[RuleSpec], comment: Mapping[str, str]) -> RuleSpec | None:
    """The deciding rule: the first matching block rule, else the first matching allow rule."""
    matching = [r for r in rules if rule_matches(r, comment)]
    blocks = [r for r in matching if r.list == RuleList.BLOCK]
    return next(iter(blocks or matching), None)
