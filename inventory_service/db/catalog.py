"""Items (with their GTINs) and locations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    unit: Mapped[str] = mapped_column(String(32), default="each")
    storage: Mapped[str] = mapped_column(String(16), default="room")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    gtins: Mapped[list[ItemGtin]] = relationship(
        back_populates="item", cascade="all, delete-orphan", lazy="selectin", order_by="ItemGtin.gtin"
    )
    hibc_codes: Mapped[list[ItemHibc]] = relationship(
        back_populates="item", cascade="all, delete-orphan", lazy="selectin", order_by="ItemHibc.code"
    )


class ItemGtin(Base):
    """A GTIN (normalised to 14 digits) maps to exactly one item; an item may have several."""

    __tablename__ = "item_gtins"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)

    item: Mapped[Item] = relationship(back_populates="gtins")


class ItemHibc(Base):
    """An HIBC product identity, `+` LIC PCN U/M (ANSI/HIBC 2.6 primary data), mapped to one item."""

    __tablename__ = "item_hibc_codes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)

    item: Mapped[Item] = relationship(back_populates="hibc_codes")


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
