"""/api/v1/docs: a real API browser (Swagger UI) served from this service, no CDN, under a
Content-Security-Policy without inline script; ordered by a night's work; with examples."""

import json
import re

from tests.factories import make_caller

SCRIPT_TAG = re.compile(r"<script([^>]*)>(.*?)</script>", re.S)


def test_the_api_browser_is_self_hosted_and_allows_no_inline_script(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from elsewhere
    scripts = SCRIPT_TAG.findall(html)
    assert scripts and all('src="/' in attributes and not body.strip()
                           for attributes, body in scripts)
    for source in re.findall(r'(?:src|href)="(/api/v1/docs/(?:swagger-ui|assets)/[^"]+)"', html):
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert "max-age" in asset.headers["Cache-Control"]
    assert client.get("/api/v1/docs/swagger-ui/swagger-ui-bundle.js").content_length > 100_000


def test_only_swagger_uis_own_files_are_served(client):
    for name in ("index.html", "swagger-initializer.js", "..%2F__init__.py",
                 "oauth2-redirect.html"):
        assert client.get(f"/api/v1/docs/swagger-ui/{name}").status_code == 404


def test_the_endpoints_come_in_the_order_of_a_night(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    order = json.loads(re.search(r'data-tag-order="([^"]+)"', html).group(1)
                       .replace("&#34;", '"').replace("&quot;", '"'))
    assert order[:4] == ["places", "regions", "placement_requests", "holds"]
    assert order[-1] == "health"
    plain = client.get("/api/v1/docs/plain").get_data(as_text=True)
    assert plain.index("/api/v1/placement-requests") < plain.index("/api/v1/solidarity")
    assert plain.index("/api/v1/solidarity") < plain.index("/healthz")


def test_the_request_example_in_the_document_is_accepted(client, session, clock):
    spec = client.get("/api/v1/openapi.json").get_json()
    body = spec["paths"]["/api/v1/placement-requests"]["post"]["requestBody"]
    example = body["content"]["application/json"]["example"]
    worker = make_caller(session, clock, "crisis_worker")
    created = client.post("/api/v1/placement-requests", json=example, headers=worker.headers)
    assert created.status_code == 201, created.get_json()
    proposals = spec["paths"]["/api/v1/placement-requests/{request_id}/proposals"]["post"]
    example = proposals["requestBody"]["content"]["application/json"]["example"]
    answer = client.post(f"/api/v1/placement-requests/{created.get_json()['id']}/proposals",
                         json=example, headers=worker.headers)
    assert answer.status_code == 200
