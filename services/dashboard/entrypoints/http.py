"""The dashboard over HTTP: the page (HTML, JS, CSS served from the package: it works offline),
its JSON API, the monitoring-and-evaluation reports (PDF, XLSX), and the login form.

Who sees what (libs/auth): province admins and auditors see every regency; a regency officer sees
only their own (their regency is the default scope, another one is 403); BPJS keys are refused.
"""

# No `from __future__ import annotations` here: the routes are defined inside build_router, and
# FastAPI must see the closure's `Reader` dependency, not the string "Reader".
import asyncio
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from libs.auth import Authenticator, Principal, Role, ensure_regency_visible
from libs.regions import PROVINCE_CODE
from libs.runtime.service import Runtime, runtime_of
from services.dashboard.adapters.pdf_report import render_pdf
from services.dashboard.adapters.xlsx_report import render_xlsx
from services.dashboard.application.dashboard import Dashboard
from services.dashboard.application.views.programmes import ProgrammeNotFound
from services.dashboard.domain.labels import PROVINCE_NAME, regency_name

READERS = (Role.PROVINCE_ADMIN, Role.AUDITOR, Role.REGENCY_OFFICER)
STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
# Everything the page loads comes from this service: no CDN, no inline script (it runs offline).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
RegencyParam = Annotated[
    str | None, Query(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri code, e.g. 12.17; omit: all")
]


@cache
def asset(name: str) -> str:
    """A file of entrypoints/static, read once."""
    return (resources.files("services.dashboard.entrypoints") / "static" / name).read_text(encoding="utf-8")


def html(name: str, status_code: int = 200, **slots: str) -> HTMLResponse:
    text = asset(name)
    for slot, value in slots.items():
        text = text.replace(f"<!--{slot}-->", value)
    return HTMLResponse(text, status_code=status_code, headers={"Content-Security-Policy": CSP})


def scope_of(principal: Principal, regency: str | None) -> str | None:
    """The regency a request may look at: None (all) only for province-wide roles."""
    if regency is None:
        return None if principal.province_wide else principal.regency
    ensure_regency_visible(principal, regency)
    return regency


def geo_response(body: dict[str, Any]) -> Response:
    # Boundaries change with a Kepmendagri decree, not between requests: a day in the browser cache.
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=86400"})


def not_found(code: str) -> HTTPException:
    return HTTPException(
        404,
        {"code": "PROGRAMME_UNKNOWN", "message": f"Program {code} belum diketahui oleh dasbor."},
    )


def build_router(auth: Authenticator, dashboard: Dashboard) -> APIRouter:
    """The dashboard's routes, checking callers with `auth`, answered by `dashboard`."""
    router = APIRouter()
    Reader = Annotated[Principal, Depends(auth.require(*READERS))]

    async def summary_of(rt: Runtime, code: str, who: Principal, regency: str | None) -> dict[str, Any]:
        async with rt.engine.connect() as conn:
            try:
                return await dashboard.summary(conn, code, scope_of(who, regency))
            except ProgrammeNotFound:
                raise not_found(code) from None

    @router.get("/", include_in_schema=False, response_model=None)
    async def page(request: Request) -> Response:
        principal = auth.identify(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        if principal.role not in READERS:
            return html("login.html", 403, error="Peran ini tidak dapat membuka dasbor.")
        return html("index.html")

    @router.get("/login", include_in_schema=False, response_model=None)
    async def login_form() -> Response:
        if auth.open:
            return RedirectResponse("/", status_code=303)
        return html("login.html")

    @router.post("/login", include_in_schema=False, response_model=None)
    async def login(request: Request, api_key: Annotated[str, Form(max_length=500)]) -> Response:
        token = auth.login(api_key)
        if token is None:
            return html("login.html", 401, error="Kunci tidak dikenal. Periksa kembali kunci Anda.")
        response = RedirectResponse("/", status_code=303)
        auth.set_session(response, token, secure=request.url.scheme == "https")
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout() -> RedirectResponse:
        response = RedirectResponse("/login", status_code=303)
        auth.clear_session(response)
        return response

    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404)
        return Response(asset(name), media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    @router.get("/api/me", tags=["dashboard"])
    async def me(who: Reader) -> dict[str, Any]:
        """The caller: name, role, the regency they are bound to, and the page's refresh period."""
        return {
            "name": who.name,
            "role": who.role.value,
            "regency": who.regency,
            "regency_name": regency_name(who.regency) if who.regency else PROVINCE_NAME,
            "province_wide": who.province_wide,
            "authenticated": who.authenticated,
            "poll_seconds": dashboard.poll_seconds,
        }

    @router.get("/api/programmes", tags=["dashboard"])
    async def programmes(
        rt: RuntimeDep, who: Reader, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
    ) -> dict[str, Any]:
        """Programmes known to the dashboard (from ProgrammeDefined), and their years.

        A regency officer is offered the province's programmes and their own regency's.
        """
        async with rt.engine.connect() as conn:
            every = await dashboard.programmes(conn)
        if not who.province_wide:
            every = [p for p in every if p["jurisdiction"] in (PROVINCE_CODE, who.regency)]
        years = sorted({p["year"] for p in every}, reverse=True)
        return {"years": years, "items": [p for p in every if year is None or p["year"] == year]}

    @router.get("/api/programmes/{code}/summary", tags=["dashboard"])
    async def programme_summary(
        code: str, rt: RuntimeDep, who: Reader, regency: RegencyParam = None
    ) -> dict[str, Any]:
        """The monitoring figures of a programme, province-wide or for one regency."""
        return await summary_of(rt, code, who, regency)

    @router.get("/api/geo/regencies", tags=["dashboard"])
    async def geo_regencies(who: Reader) -> Response:
        """The 33 regencies/cities as SVG paths in a 600-wide box (public boundaries, cacheable)."""
        return geo_response(dashboard.regency_map())

    @router.get("/api/geo/kecamatan/{regency}", tags=["dashboard"])
    async def geo_kecamatan(regency: Annotated[str, Path(max_length=10)], who: Reader) -> Response:
        """One regency's kecamatan as SVG paths, with each kecamatan's desa/kelurahan names; 404
        REGENCY_UNKNOWN for a code no regency has (the shape of every other unknown here)."""
        drawn = dashboard.kecamatan_map(regency)
        if drawn is None:
            raise HTTPException(
                404, {"code": "REGENCY_UNKNOWN", "message": f"Kabupaten/kota {regency} tidak dikenal."}
            )
        return geo_response(drawn)

    def attachment(code: str, data: dict[str, Any], ext: str) -> str:
        scope = data["scope"]["regency"]
        suffix = f"-{scope.replace('.', '')}" if scope else ""
        return f'attachment; filename="monev-{code}{suffix}.{ext}"'

    @router.get("/reports/{code}.pdf", tags=["reports"])
    async def report_pdf(code: str, rt: RuntimeDep, who: Reader, regency: RegencyParam = None) -> Response:
        """The monitoring-and-evaluation report as PDF (scoped like the dashboard)."""
        data = await summary_of(rt, code, who, regency)
        body = await asyncio.to_thread(render_pdf, data, atlas=dashboard.atlas, now=dashboard.now())
        return Response(
            body,
            media_type="application/pdf",
            headers={"Content-Disposition": attachment(code, data, "pdf")},
        )

    @router.get("/reports/{code}.xlsx", tags=["reports"])
    async def report_xlsx(code: str, rt: RuntimeDep, who: Reader, regency: RegencyParam = None) -> Response:
        """The monitoring-and-evaluation report as an Excel workbook (scoped like the dashboard)."""
        data = await summary_of(rt, code, who, regency)
        body = await asyncio.to_thread(render_xlsx, data, now=dashboard.now())
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": attachment(code, data, "xlsx")},
        )

    return router
