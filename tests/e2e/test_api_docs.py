"""Swagger UI at /api/docs/: the three OpenAPI documents, browsable from local files alone."""
import re
from urllib.parse import urlsplit

import requests
from playwright.sync_api import expect

from tests.e2e.console import snapshot

DOCUMENTS = ["/api/auth/openapi.json", "/api/tasks/openapi.json", "/api/notifications/openapi.json"]


def test_api_docs_page_is_served_with_the_console_security_headers(gateway):
    page = requests.get(f"{gateway}/api/docs/", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp and "img-src 'self' data:" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page.text and "http" not in page.text.split("</head>")[1]
    initializer = requests.get(f"{gateway}/api/docs/initializer.js", timeout=5)
    assert initializer.headers["Content-Type"].startswith("text/javascript")
    assert [url for url in DOCUMENTS if f'"{url}"' in initializer.text] == DOCUMENTS
    bundle = requests.get(f"{gateway}/api/docs/swagger-ui/swagger-ui-bundle.js", timeout=5)
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text[:1000]
    # Only the three files the page loads come out of the package directory.
    stock = requests.get(f"{gateway}/api/docs/swagger-ui/index.html", timeout=5)
    assert stock.status_code == 404 and stock.headers["Content-Type"] == "application/problem+json"


def test_api_docs_list_each_services_operations_with_no_request_leaving_the_host(browser, gateway, request):
    context = browser.new_context(base_url=gateway)
    context.set_default_timeout(10_000)
    page = context.new_page()
    requested, problems = [], []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        page.goto("/api/docs/")
        expect(page.locator(".opblock-summary-path", has_text="/api/auth/login/").first).to_be_visible()
        expect(page.locator(".opblock-summary-path", has_text="/api/tasks/")).to_have_count(0)

        page.locator(".topbar select").select_option(label="tasks (tasks_svc)")
        expect(page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/tasks/$")).first).to_be_visible()
        expect(page.locator(".opblock-summary-path", has_text="/api/auth/login/")).to_have_count(0)
        snapshot(page, "api-docs-tasks")
    finally:
        context.close()

    host = urlsplit(gateway).netloc
    assert f"{gateway}/api/auth/openapi.json" in requested and f"{gateway}/api/tasks/openapi.json" in requested
    assert [url for url in requested if urlsplit(url).netloc != host] == []
    assert problems == []
