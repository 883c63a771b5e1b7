"""People who sign in to the moderation pages: argon2id passwords, roles, per-site limits."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.models import Role, Site, User, UserSite

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 100
# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_HASHER = PasswordHasher()


class UserError(Exception):
    """A user cannot be added, found or changed as asked."""


@dataclass(frozen=True)
class Moderator:
    """The signed-in person as the pages see them (Flask-Login's user object)."""

    id: int
    name: str
    role: str
    # None: every site (admins, and moderators with no user_sites rows).
    site_ids: frozenset[int] | None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session cookie."""
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        """Admins see every site and may undo anyone's decisions."""
        return self.role == Role.ADMIN.value

    def may_see(self, site_id: int) -> bool:
        """Whether this person may see and act on a site's checks."""
        return self.site_ids is None or site_id in self.site_ids


def hash_password(password: str) -> str:
    """An argon2id hash of a password (salt and parameters included)."""
    return _HASHER.hash(password)


def check_password_rules(password: str) -> None:
    """:raises UserError: when the password is too short to be worth hashing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_user(
    session: Session, name: str, password: str, role: Role, sites: list[Site] | None = None
) -> User:
    """Create a user, optionally limited to some sites, and commit.

    :raises UserError: for an empty or taken name, or a short password.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or any(c.isspace() for c in name):
        raise UserError(f"a user name is 1 to {MAX_NAME_LENGTH} characters without spaces")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} exists already")
    check_password_rules(password)
    user = User(name=name, password_hash=hash_password(password), role=role.value)
    session.add(user)
    session.flush()
    for site in sites or []:
        session.add(UserSite(user_id=user.id, site_id=site.id))
    session.commit()
    return user


def find_user(session: Session, name: str) -> User:
    """:raises UserError: when there is no user of that name."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def remove_user(session: Session, user: User) -> None:
    """Delete a user; their decisions stay in the audit log under their name."""
    session.execute(delete(UserSite).where(UserSite.user_id == user.id))
    session.delete(user)
    session.commit()


def allow_site(session: Session, user: User, site: Site) -> None:
    """Limit a user to `site` as well as any sites they are already limited to."""
    if session.get(UserSite, (user.id, site.id)) is None:
        session.add(UserSite(user_id=user.id, site_id=site.id))
        session.commit()


def user_site_ids(session: Session, user_id: int) -> list[int]:
    """The sites a user is limited to; empty means every site."""
    query = select(UserSite.site_id).where(UserSite.user_id == user_id).order_by(UserSite.site_id)
    return list(session.scalars(query))


def moderator_of(session: Session, user: User) -> Moderator:
    """The page-side view of a user, with the sites they may see."""
    limited = user_site_ids(session, user.id)
    sites = None if user.role == Role.ADMIN.value or not limited else frozenset(limited)
    return Moderator(user.id, user.name, user.role, sites)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown names, so they cost what a wrong password does."""
    return _HASHER.hash("not the password of anyone")


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user with this name and password, else None (in about the same time either way)."""
    user = session.scalar(select(User).where(User.name == name))
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.commit()
    return user
