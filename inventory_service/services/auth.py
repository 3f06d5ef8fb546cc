"""API tokens with roles. The token is random, shown once; only its SHA-256 is stored.

SHA-256 (not a slow password hash) is right here: tokens carry 256 bits of entropy, so
brute force is hopeless, and every request must verify one quickly.

Who may manage which tokens: an admin any token; a manager staff tokens only (create, list, revoke),
so a manager can equip the stockroom without being able to hand out their own powers. The CLI (run by
whoever administers the machine) is not limited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..db.models import ApiToken
from ..db.uow import UnitOfWork
from ..domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from .context import Context

ROLES = ("staff", "manager", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
TOKEN_PREFIX = "inv_"  # noqa: S105 - a visible prefix so leaked tokens are recognisable, not a secret


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def has(self, role: str) -> bool:
        """Roles are ordered: admin can do what a manager can, a manager what staff can."""
        return _RANK[self.role] >= _RANK[role]

    def manages(self) -> tuple[str, ...]:
        """The roles of the tokens this principal may create, list and revoke."""
        return MANAGES.get(self.role, ())


#: Which token roles each role may manage.
MANAGES: dict[str, tuple[str, ...]] = {"admin": ROLES, "manager": ("staff",)}


def _assert_manages(issuer: Principal | None, role: str, what: str) -> None:
    if issuer is not None and role not in issuer.manages():
        allowed = " and ".join(issuer.manages()) or "no"
        raise Forbidden(f"a {issuer.role} can {what} {allowed} tokens only; a {role} token needs an admin",
                        code="forbidden", details={"role": issuer.role, "token_role": role})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_NAME = 100  # the name column's length


def create_token(uow: UnitOfWork, ctx: Context, *, name: str, role: str,
                 issuer: Principal | None = None) -> tuple[ApiToken, str]:
    """Return the row and the plaintext token; the plaintext is not kept anywhere.

    `issuer` is who asks through the API (None: the CLI); a role they may not manage is 403 `forbidden`.
    """
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}", code="bad_role")
    _assert_manages(issuer, role, "create")
    if not name.strip():
        raise InvalidRequest("name must not be empty", code="bad_name")
    if len(name) > MAX_NAME or "\x00" in name:
        raise InvalidRequest(f"name must be at most {MAX_NAME} characters, without NUL", code="bad_name")
    if uow.session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} exists", code="token_name_taken")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=hash_token(token), prefix=token[:10], created_at=ctx.now)
    uow.session.add(row)
    uow.session.flush()
    return row, token


def authenticate(uow: UnitOfWork, token: str) -> Principal | None:
    """The principal for a presented token, or None when unknown or revoked."""
    row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.name, row.role)


def revoke_token(uow: UnitOfWork, ctx: Context, *, name: str | None = None, token_id: int | None = None,
                 issuer: Principal | None = None) -> ApiToken:
    """Revoke by name or id (kept, refused from now on). 404 `token_not_found`; a token whose role
    `issuer` may not manage is 403 `forbidden`."""
    q = select(ApiToken).where(ApiToken.name == name) if name is not None else select(ApiToken).where(
        ApiToken.id == token_id)
    row = uow.session.scalar(q)
    if row is None:
        raise NotFound("token not found", code="token_not_found")
    _assert_manages(issuer, row.role, "revoke")
    if row.revoked_at is None:
        row.revoked_at = ctx.now
    return row


def token_to_dict(t: ApiToken) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "role": t.role, "prefix": t.prefix, "created_at": t.created_at,
            "revoked_at": t.revoked_at}


def list_tokens(uow: UnitOfWork, roles: tuple[str, ...] = ROLES) -> list[dict[str, Any]]:
    """Tokens of `roles` (a manager passes `Principal.manages()`: staff tokens only), oldest first."""
    q = select(ApiToken).where(ApiToken.role.in_(roles)).order_by(ApiToken.id)
    return [token_to_dict(t) for t in uow.session.scalars(q)]
