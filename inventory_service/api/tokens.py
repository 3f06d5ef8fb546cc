"""API tokens: an admin manages every token, a manager staff tokens only."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..services import auth
from .runtime import context, reader, writer
from .schemas.catalog import TokenIn, TokenList, TokenOut
from .security import current_principal, role

blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens and roles")


@blp.route("")
class Tokens(MethodView):
    @role("manager")
    @blp.response(200, TokenList)
    def get(self) -> dict[str, Any]:
        """The tokens the caller may manage (a manager: staff tokens; an admin: all)."""
        with reader() as uow:
            return {"items": auth.list_tokens(uow, current_principal().manages())}

    @role("manager")
    @blp.arguments(TokenIn)
    @blp.response(201, TokenOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a token; the answer is the only time the token is shown. A manager creates staff
        tokens only (403 `forbidden` for manager or admin)."""
        with writer() as uow:
            row, token = auth.create_token(uow, context(), **body, issuer=current_principal())
            uow.commit()
            return {**auth.token_to_dict(row), "token": token}


@blp.route("/<int:token_id>")
class TokenById(MethodView):
    @role("manager")
    @blp.response(200, TokenOut)
    def delete(self, token_id: int) -> dict[str, Any]:
        """Revoke a token (kept for the audit trail, refused from now on); a manager revokes staff tokens only."""
        with writer() as uow:
            row = auth.revoke_token(uow, context(), token_id=token_id, issuer=current_principal())
            uow.commit()
            return auth.token_to_dict(row)
