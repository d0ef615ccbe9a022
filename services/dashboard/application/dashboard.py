"""The dashboard's application layer as its composition root builds it (services/dashboard/bootstrap.py):
the read side with its clock and map boundaries, and the reactor that projects consumed events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.dashboard.application.handlers import DashboardReactor
from services.dashboard.application.views import maps
from services.dashboard.application.views.programmes import list_programmes
from services.dashboard.application.views.summary import summary
from services.dashboard.domain.geo import Atlas


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard's routes and consumer use, bound to settings, clock and boundaries."""

    reactor: DashboardReactor
    atlas: Atlas
    now: Callable[[], datetime]
    poll_seconds: int

    async def programmes(self, conn: AsyncConnection) -> list[dict[str, Any]]:
        """The programmes the dashboard knows, newest year first."""
        return await list_programmes(conn)

    async def summary(self, conn: AsyncConnection, code: str, regency: str | None) -> dict[str, Any]:
        """A programme's monitoring summary as of now (raises ProgrammeNotFound)."""
        return await summary(conn, code, regency, as_of=self.now())

    def regency_map(self) -> dict[str, Any]:
        """The 33 regencies/cities as SVG paths."""
        return maps.regency_map(self.atlas)

    def kecamatan_map(self, regency: str) -> dict[str, Any] | None:
        """One regency's kecamatan as SVG paths with their desa (None: no such regency)."""
        return maps.kecamatan_map(self.atlas, regency)
