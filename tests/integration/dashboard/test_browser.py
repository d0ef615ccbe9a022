"""The dashboard in headless Chromium, over a province-year of events (33 regencies, thousands of
workers) fed through the real topics.

The figures on the page must equal the dashboard's API, and the API must equal the books the
generator kept while emitting the events. The page must load nothing from outside the dashboard
(it works offline), show a regency officer only their regency, fit a phone (390 px) and a desktop
(1440 px) with no sideways scroll and no text under 10 px, and draw the map (33 regencies, drill
into a regency's kecamatan by mouse and keyboard). With LINDUNG_WRITE_SCREENSHOTS=1 it writes the
README's screenshots (docs/img/dashboard*.png); otherwise it writes nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import FloatRect, Page, ViewportSize, async_playwright

from libs.regions.places import desa_of_kecamatan, kecamatan_of_regency
from services.dashboard.domain.labels import number, percent, rupiah
from tests.integration.dashboard.conftest import KEYS, OFFICER_REGENCY, RUN, Dashboard
from tests.integration.dashboard.province import ProvinceYear, Worker, province_year
from tests.integration.dashboard.support import Feed, person, publish, wait_consumed

pytestmark = pytest.mark.integration

PROGRAMME = f"SUMUT-{RUN}-2025"
IMAGES = Path(__file__).resolve().parents[3] / "docs" / "img"
# Screenshots for the README only when asked: a test run leaves the working tree as it found it.
WRITE_SCREENSHOTS = os.environ.get("LINDUNG_WRITE_SCREENSHOTS") == "1"
VILLAGE_PROGRAMME = f"DESA-{RUN}-2026"
FIRST_DESA = desa_of_kecamatan(kecamatan_of_regency(OFFICER_REGENCY)[0].code)
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MONEY = {"committed", "paid", "claims_amount"}
OVERVIEW = [
    "seats", "nominated", "validated", "rejected", "assigned", "waitlisted", "decreed", "enrolled",
    "failed", "committed", "paid", "claims", "claims_amount",
]  # fmt: skip


def shown(key: str, value: int) -> str:
    """How the page writes `value` (Indonesian digit grouping, rupiah)."""
    return rupiah(value) if key in MONEY else number(value)


async def summary(dashboard: Dashboard, role: str, regency: str | None = None) -> dict[str, Any]:
    async with dashboard.client(role) as http:
        params = {"regency": regency} if regency else {}
        answer = await http.get(f"/api/programmes/{PROGRAMME}/summary", params=params)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def kpis(page: Page) -> dict[str, str]:
    texts: dict[str, str] = await page.eval_on_selector_all(
        "[data-testid^=kpi-]",
        "els => Object.fromEntries(els.map(e => [e.dataset.testid.slice(4), e.textContent]))",
    )
    return texts


async def overview(page: Page) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = await page.eval_on_selector_all(
        "#table-regencies tr[data-regency]",
        """rows => Object.fromEntries(rows.map(r => [r.dataset.regency, Object.fromEntries(
             [...r.querySelectorAll('td[data-k]')].map(td => [td.dataset.k, td.textContent]))]))""",
    )
    return rows


def expected_kpis(data: dict[str, Any]) -> dict[str, str]:
    t, b = data["totals"], data["budget"]
    return {
        "nominated": number(t["nominated"]),
        "validated": number(t["validated"]),
        "assigned": number(t["assigned"]),
        "enrolled": number(t["enrolled"]),
        "committed": rupiah(b["committed"]),
        "paid": rupiah(b["paid"]),
        "claims": number(t["claims"]),
    }


async def login(page: Page, url: str, key: str) -> None:
    await page.goto(f"{url}/")
    assert page.url.endswith("/login")
    await page.fill("#api_key", key)
    # Waiting for the navigation the click starts (not for the URL afterwards) leaves no window
    # in which the redirect lands between two calls; the page's own readiness is checked by callers.
    async with page.expect_navigation(url=f"{url}/", wait_until="domcontentloaded"):
        await page.click("button[type=submit]")


async def open_programme(page: Page, url: str, hash_: str = "") -> float:
    """Load the page on PROGRAMME (a full load); return the seconds until its figures are shown."""
    started = time.perf_counter()
    await page.goto(f"{url}/#programme={PROGRAMME}{hash_}")
    await page.wait_for_selector(f"body[data-ready='1'][data-programme='{PROGRAMME}']")
    return time.perf_counter() - started


@pytest.fixture(scope="module")
async def province(dashboard: Dashboard) -> ProvinceYear:
    year = province_year(PROGRAMME)
    # A newer programme of another funder: the page opens on it, a link (#programme=) leaves it.
    samosir = Feed(f"SAMOSIR-{RUN}-2026")
    samosir.define("LANJUTKAN: bantuan iuran pekerja rentan Kabupaten Samosir 2026", 2026, 395_904_000,
                   {(OFFICER_REGENCY, "non_sawit"): 1_815}, jurisdiction=OFFICER_REGENCY)  # fmt: skip
    # Samosir's village programme: at most 2 seats per desa; one desa full, one with a seat.
    villages = Feed(VILLAGE_PROGRAMME)
    villages.define(
        "Bantuan iuran per desa Kabupaten Samosir 2026", 2026, 100_000_000,
        {(OFFICER_REGENCY, "non_sawit"): 300}, jurisdiction=OFFICER_REGENCY, village_cap=2,
    )  # fmt: skip
    full, other = FIRST_DESA[0].code, FIRST_DESA[1].code
    for serial, desa in enumerate((full, full, other)):
        worker = person(OFFICER_REGENCY, "non_sawit", serial, seed=77)
        nomination = villages.nominate(worker)
        villages.validate(worker, nomination)
        villages.assign(worker, nomination, desa=desa)
    started = time.perf_counter()
    await publish(dashboard.bootstrap, samosir.sent + villages.sent + year.feed.sent)
    await wait_consumed(dashboard.engine, [env.event_id for _, _, env in year.feed.sent], timeout_s=90)
    print(f"\n{len(year.feed.sent)} events consumed in {time.perf_counter() - started:.1f}s")
    return year


async def test_the_api_agrees_with_the_generators_books(dashboard: Dashboard, province: ProvinceYear) -> None:
    started = time.perf_counter()
    data = await summary(dashboard, "admin")
    print(f"\nprovince summary answered in {(time.perf_counter() - started) * 1000:.0f} ms")
    rows = {r["code"]: r for r in data["regencies"]}
    assert len(rows) == 33
    assert sum(r["nominated"] for r in rows.values()) == len(province.workers) > 3000
    for code, row in rows.items():
        expected = province.expected(code)
        assert {k: row[k] for k in expected} == expected, code
    assert {r["code"]: r["count"] for r in data["rejections"]} == dict(province.rejected_reasons)
    assert data["budget"]["cap"] == province.feed.sent[0][2].payload["budget_cap"]


async def test_the_page_shows_the_read_models(
    dashboard: Dashboard, province: ProvinceYear, chromium: str
) -> None:
    data = await summary(dashboard, "admin")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport=DESKTOP, locale="id-ID")
            page = await context.new_page()
            outside: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(dashboard.url) else outside.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await login(await context.new_page(), dashboard.url, KEYS["admin"])  # sets the session cookie
            print(f"\npage ready in {await open_programme(page, dashboard.url) * 1000:.0f} ms")

            assert await page.text_content("#scope-name") == "Provinsi Sumatera Utara"
            assert await kpis(page) == expected_kpis(data)
            table = await overview(page)
            assert len(table) == 34  # 33 regencies/cities and the total row
            for row in data["regencies"]:
                cells = table[row["code"]]
                assert {k: cells[k] for k in OVERVIEW} == {k: shown(k, row[k]) for k in OVERVIEW}, row["code"]
                assert cells["use"] == percent(row["assigned"], row["seats"])
            assert table["total"]["enrolled"] == number(data["totals"]["enrolled"])
            # The charts are drawn from the same numbers (SVG, no library).
            funnel = await page.eval_on_selector_all("#chart-funnel text", "ts => ts.map(t => t.textContent)")
            for stage in data["funnel"]:
                assert any(t.startswith(number(stage["count"])) for t in funnel), stage
            months = await page.eval_on_selector_all(
                "#table-claims tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
            )
            assert months == [
                [m["label"], number(m["JKK"]["claims"]), rupiah(m["JKK"]["amount"]),
                 number(m["JKM"]["claims"]), rupiah(m["JKM"]["amount"]),
                 number(m["JKK"]["flagged"] + m["JKM"]["flagged"])]
                for m in data["claims"]["by_month"]
            ]  # fmt: skip
            assert await page.locator("#chart-regencies svg rect").count() > 33 * 3

            # Every rejection reason is listed; the chart groups the long tail as "lainnya".
            reasons = await page.eval_on_selector_all(
                "#table-rejections tbody tr", "rs => rs.map(r => r.dataset.code)"
            )
            assert reasons == [r["code"] for r in data["rejections"]]
            bars = await page.eval_on_selector_all(
                "#chart-rejections text[font-weight='700']", "ts => ts.map(t => t.firstChild.textContent)"
            )
            assert sum(int(b.replace(".", "")) for b in bars) == sum(r["count"] for r in data["rejections"])
            # The identities the API checks are stated on the page, each with its mark.
            marks = await page.eval_on_selector_all(
                "#identities li[data-identity]", "ls => ls.map(l => [l.dataset.identity, l.className])"
            )
            assert marks == [
                [i["name"], "holds" if i["holds"] else "broken"] for i in data.get("identities", [])
            ]

            # One regency, chosen by clicking its row: the page follows the API's regency view.
            before = await page.get_attribute("body", "data-as-of")
            await page.click(f"#table-regencies tr[data-regency='{OFFICER_REGENCY}']")
            await page.wait_for_function("(before) => document.body.dataset.asOf !== before", arg=before)
            await page.wait_for_selector("#scope-name >> text=Kabupaten Samosir")
            assert await kpis(page) == expected_kpis(await summary(dashboard, "admin", OFFICER_REGENCY))
            assert outside == [] and errors == []
        finally:
            await browser.close()


async def test_a_regency_officer_sees_only_their_regency_in_the_browser(
    dashboard: Dashboard, province: ProvinceYear, chromium: str
) -> None:
    own = await summary(dashboard, "officer")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport=DESKTOP)
            await login(await context.new_page(), dashboard.url, KEYS["officer"])
            page = await context.new_page()
            await open_programme(page, dashboard.url, "&regency=12.71")  # asks for Medan
            assert await page.get_attribute("body", "data-regency") == OFFICER_REGENCY
            assert await page.text_content("#scope-name") == "Kabupaten Samosir"
            assert list(await overview(page)) == [OFFICER_REGENCY]
            assert await kpis(page) == expected_kpis(own)
            assert await page.is_disabled("#f-regency")
            assert await page.is_hidden("#card-regency-chart")
            # The officer's download links are their regency's reports.
            xlsx = str(await page.get_attribute("#dl-xlsx", "href"))
            assert xlsx.endswith(f".xlsx?regency={OFFICER_REGENCY}")
        finally:
            await browser.close()


async def test_live_numbers_follow_new_events(
    dashboard: Dashboard, province: ProvinceYear, chromium: str
) -> None:
    """The page polls the API: a nomination published while it is open shows up without a reload."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await login(page, dashboard.url, KEYS["admin"])
            # Which programme opens first depends on what else the package defined; any will do.
            await page.wait_for_selector("body[data-ready='1']")
            await page.evaluate("(code) => { window.location.hash = 'programme=' + code; }", PROGRAMME)
            await page.wait_for_selector(f"body[data-ready='1'][data-programme='{PROGRAMME}']")
            before = (await summary(dashboard, "admin"))["totals"]["nominated"]
            assert (await kpis(page))["nominated"] == number(before)
            feed = Feed(PROGRAMME)
            newcomer = person("12.78", "non_sawit", 1, seed=99)
            province.workers.append(Worker(newcomer, feed.nominate(newcomer)))  # keep the books right
            await publish(dashboard.bootstrap, feed.sent)
            await page.wait_for_function(
                "(want) => document.querySelector('[data-testid=kpi-nominated]').textContent === want",
                arg=number(before + 1),
                timeout=20_000,
            )
        finally:
            await browser.close()


# Text nodes drawn smaller than 10 CSS px on screen: HTML by their computed size, SVG text by its
# size times the scale its element is drawn at (getScreenCTM), so a shrunken viewBox shows up.
SMALL_TEXT = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const e = node.parentElement;
    if (!e || !node.textContent.trim() || e.closest('title, script, style, option, .sr-only')) continue;
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    if ((box.width === 0 && box.height === 0) || style.visibility === 'hidden') continue;
    let size = parseFloat(style.fontSize);
    if (e instanceof SVGElement) { const m = e.getScreenCTM(); size *= Math.hypot(m.a, m.b); }
    const text = node.textContent.trim().slice(0, 30);
    if (size < 9.99) small.push(`${size.toFixed(1)}px <${e.tagName}> ${text}`);
  }
  return small;
}"""
# Text whose colour is below WCAG AA contrast (4.5:1; 3:1 for large text) against the first opaque
# background behind it (SVG text: its fill against the card). Text over a gradient (the header)
# is left out: its darkest and lightest stops are both checked by hand (white on #083a66..#136aa8).
LOW_CONTRAST = """() => {
  const rgba = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const v = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const channel = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
  const lum = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const behind = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const style = getComputedStyle(n);
      if (style.backgroundImage !== 'none') return null;
      const c = rgba(style.backgroundColor);
      if (c && c[3] >= 0.99) return c;
    }
    return [255, 255, 255, 1];
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const e = node.parentElement;
    const skipped = 'title, script, style, option, .sr-only, :disabled';
    if (!e || !node.textContent.trim() || e.closest(skipped)) continue;
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    if ((box.width === 0 && box.height === 0) || style.visibility === 'hidden') continue;
    const back = behind(e);
    const fore = rgba(e instanceof SVGElement ? style.fill : style.color);
    if (!back || !fore) continue;
    const ink = fore.slice(0, 3).map((v, i) => v * fore[3] + back[i] * (1 - fore[3]));
    const [a, b] = [lum(ink), lum(back)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const text = node.textContent.trim().slice(0, 30);
    if (ratio < (large ? 3 : 4.5)) low.push(`${ratio.toFixed(2)}:1 <${e.tagName}> ${text}`);
  }
  return low;
}"""
OVERFLOW = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
MAP_DRAWN = """([key, n]) => document.body.dataset.map === key
  && document.querySelectorAll('#map svg path.area[fill]').length === n"""


MAP_NONE = "#eceff3"  # dashboard.js: the colour of an area without figures


async def wait_for_map(page: Page, key: str, areas: int) -> None:
    await page.wait_for_function(MAP_DRAWN, arg=[key, areas])


async def fits(page: Page) -> None:
    """No sideways scroll, no text on the page below 10 px, and text in AA contrast."""
    scroll_width, inner_width = await page.evaluate(OVERFLOW)
    assert scroll_width <= inner_width, f"the page is {scroll_width} px wide in a {inner_width} px window"
    assert await page.evaluate(SMALL_TEXT) == []
    assert await page.evaluate(LOW_CONTRAST) == []


@asynccontextmanager
async def admin_page(dashboard: Dashboard, chromium: str, viewport: ViewportSize) -> AsyncIterator[Page]:
    """A page of a signed-in province admin in a window of `viewport`'s size."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport=viewport, locale="id-ID")
            await login(await context.new_page(), dashboard.url, KEYS["admin"])
            yield await context.new_page()
        finally:
            await browser.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1440px"])
async def test_the_page_fits_the_screen_with_legible_text_and_a_map(
    dashboard: Dashboard, province: ProvinceYear, chromium: str, viewport: ViewportSize
) -> None:
    data = await summary(dashboard, "admin")
    async with admin_page(dashboard, chromium, viewport) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        form = await page.context.new_page()
        await form.goto(f"{dashboard.url}/login")
        await fits(form)  # the login form too
        await open_programme(page, dashboard.url)
        await wait_for_map(page, "regencies", 33)
        await fits(page)
        # The map: 33 regions coloured by the chosen figure, each named for a screen reader,
        # and a legend of the classes.
        names = await page.eval_on_selector_all(
            "#map path.area", "ps => ps.map(p => [p.dataset.code, p.getAttribute('aria-label')])"
        )
        rows = {r["code"]: r for r in data["regencies"]}
        assert sorted(code for code, _ in names) == sorted(rows)
        for code, name in names:
            assert name.endswith(
                f"Kuota terisi (%) {percent(rows[code]['assigned'], rows[code]['seats'])}"
            ), name
        assert await page.locator("#map-legend li").count() == 6  # five classes and "no data"
        assert await page.text_content("#map-legend .legend-title") == "Kuota terisi (%)"
        # Another figure recolours the same regions.
        await page.select_option("#map-figure", "enrolled")
        await page.wait_for_selector("#map-legend .legend-title >> text=Terdaftar BPJS")
        label = await page.get_attribute(f"#map path[data-code='{OFFICER_REGENCY}']", "aria-label")
        assert label == f"Kabupaten Samosir: Terdaftar BPJS {number(rows[OFFICER_REGENCY]['enrolled'])}"
        # Phone: the 33 regencies as labelled bars a row each, no narrower than the text.
        await page.select_option("#map-figure", "use")
        await fits(page)
        if WRITE_SCREENSHOTS:
            if viewport is DESKTOP:
                await page.screenshot(path=str(IMAGES / "dashboard.png"), full_page=True)
                await page.locator(".map-card").screenshot(path=str(IMAGES / "dashboard-map.png"))
            else:  # the phone's first screens: header, figures, identities and the map
                phone: FloatRect = {"x": 0, "y": 0, "width": PHONE["width"], "height": 1800}
                await page.screenshot(path=str(IMAGES / "dashboard-phone.png"), full_page=True, clip=phone)
        assert errors == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1440px"])
async def test_the_map_drills_into_a_regency_by_click_and_by_keyboard(
    dashboard: Dashboard, province: ProvinceYear, chromium: str, viewport: ViewportSize
) -> None:
    async with admin_page(dashboard, chromium, viewport) as page:
        await open_programme(page, dashboard.url)
        await wait_for_map(page, "regencies", 33)
        # The first Tab stop is the skip link; it leads past the filters to the figures.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"

        # A click on Samosir: the page scopes to it and the map shows its kecamatan.
        await page.click(f"#map path[data-code='{OFFICER_REGENCY}']")
        samosir = kecamatan_of_regency(OFFICER_REGENCY)
        await wait_for_map(page, OFFICER_REGENCY, len(samosir))
        assert await page.get_attribute("body", "data-regency") == OFFICER_REGENCY
        assert await page.text_content("#scope-name") == "Kabupaten Samosir"
        codes = await page.eval_on_selector_all("#map path.area", "ps => ps.map(p => p.dataset.code)")
        assert codes == [k.code for k in samosir]
        # Its kecamatan coloured by their own figures: seats are set per regency, so the map's
        # "Kuota terisi" shows seat holders there (not the "belum tersedia" hint).
        scoped = await summary(dashboard, "admin", OFFICER_REGENCY)
        held = {k["code"]: k["assigned"] for k in scoped["kecamatan"]}
        assert any(held.values())
        await page.wait_for_selector("#map-legend .legend-title >> text=Pemegang kuota")
        areas = await page.eval_on_selector_all(
            "#map path.area",
            "ps => ps.map(p => [p.dataset.code, p.getAttribute('fill'), p.getAttribute('aria-label')])",
        )
        for code, fill, label in areas:
            assert label.endswith(f"Pemegang kuota {number(held[code])}"), label
            assert (fill != MAP_NONE) == (held[code] > 0), code
        await fits(page)
        # A kecamatan chosen with the keyboard names itself and its figures.
        await page.focus(f"#map path[data-code='{samosir[0].code}']")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(f"#map-detail h4 >> text=Kecamatan {samosir[0].name}")
        figures = await page.text_content("#map-detail .kecamatan-figures")
        assert figures is not None and f"pemegang kuota {number(held[samosir[0].code])}" in figures

        # Back to the province, then Medan by keyboard alone: Tab reaches the map's regions.
        await page.click("#map-back")
        await wait_for_map(page, "regencies", 33)
        await page.focus("#map-figure")
        await page.keyboard.press("Tab")
        first = await page.evaluate("document.activeElement.dataset.code")
        assert first == (await page.eval_on_selector("#map path.area", "p => p.dataset.code"))
        await page.focus("#map path[data-code='12.71']")
        await page.keyboard.press("Enter")
        medan = kecamatan_of_regency("12.71")
        await wait_for_map(page, "12.71", len(medan))
        assert await page.text_content("#scope-name") == "Kota Medan"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1440px"])
async def test_a_regency_programme_shows_its_regency(
    dashboard: Dashboard, province: ProvinceYear, chromium: str, viewport: ViewportSize
) -> None:
    """SAMOSIR's own programme (APBD Kabupaten): headed with Samosir, one row, Samosir's kecamatan."""
    code = f"SAMOSIR-{RUN}-2026"
    async with admin_page(dashboard, chromium, viewport) as page:
        await page.goto(f"{dashboard.url}/#programme={code}")
        await page.wait_for_selector(f"body[data-ready='1'][data-programme='{code}']")
        assert await page.text_content("#scope-name") == "Kabupaten Samosir"
        assert await page.text_content("#brand-scope") == "Kabupaten Samosir"
        assert list(await overview(page)) == [OFFICER_REGENCY]
        assert await page.is_hidden("#card-regency-chart")
        await wait_for_map(page, OFFICER_REGENCY, len(kecamatan_of_regency(OFFICER_REGENCY)))
        await fits(page)


async def test_a_programme_capping_seats_per_village_shows_its_villages(
    dashboard: Dashboard, province: ProvinceYear, chromium: str
) -> None:
    async with admin_page(dashboard, chromium, PHONE) as page:
        await page.goto(f"{dashboard.url}/#programme={VILLAGE_PROGRAMME}")
        await page.wait_for_selector(f"body[data-ready='1'][data-programme='{VILLAGE_PROGRAMME}']")
        kecamatan = kecamatan_of_regency(OFFICER_REGENCY)
        await wait_for_map(page, OFFICER_REGENCY, len(kecamatan))
        # The regency's villages holding seats, against the cap (the full one marked).
        seated = await page.eval_on_selector_all(
            "#map-detail tr[data-desa]",
            "rs => rs.map(r => [r.dataset.desa, r.cells[1].textContent, r.cells[1].className])",
        )
        assert seated == [[FIRST_DESA[0].code, "2", "warn"], [FIRST_DESA[1].code, "1", ""]]
        # A kecamatan chosen on the map lists all its desa with their seats.
        await page.focus(f"#map path[data-code='{kecamatan[0].code}']")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(f"#map-detail h4 >> text=Kecamatan {kecamatan[0].name}")
        rows = await page.eval_on_selector_all(
            "#map-detail tr[data-desa]", "rs => rs.map(r => [r.dataset.desa, r.cells[1].textContent])"
        )
        assert [code for code, _ in rows] == [d.code for d in FIRST_DESA]
        assert rows[:3] == [[FIRST_DESA[0].code, "2"], [FIRST_DESA[1].code, "1"], [FIRST_DESA[2].code, "0"]]
        await fits(page)
