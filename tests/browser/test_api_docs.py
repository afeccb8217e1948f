"""The API browser in a real Chromium: it renders under its CSP and fits a phone."""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("width", [360, 1280])
def test_the_api_browser_renders_without_errors_and_fits_the_screen(browser, site, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "favicon" not in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{site.base_url}/api/v1/docs")
    page.wait_for_selector(".opblock-tag", timeout=15_000)
    tags = page.eval_on_selector_all(".opblock-tag", "tags => tags.map(t => t.dataset.tag)")
    assert tags[:3] == ["places", "regions", "placement_requests"]
    page.click("#operations-tag-placement_requests")
    page.click(".opblock-post .opblock-summary >> nth=0")
    page.locator(".opblock.is-open").first.wait_for()
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=f"tests/artifacts/screenshots/api-docs-{width}.png")
    # A CSP violation or a failed script shows as a console error.
    assert [p for p in problems if "404" not in p] == []
    context.close()
