"""/api/docs/: a human-readable page for the OpenAPI schema, with its assets served locally."""

from __future__ import annotations

import re

from django.test import Client as HttpClient


def test_it_serves_swagger_ui_from_local_static_files(db):
    web = HttpClient()
    response = web.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in page
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page)
    assert any("swagger-ui-bundle.js" in a for a in assets) and any("swagger-ui.css" in a for a in assets)
    # No CDN: every asset is a path on this server, and it answers.
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = web.get(asset)
        assert served.status_code == 200, asset
        served.close()
    assert not re.search(r'(?:src|href)="https?://', page)


def test_the_schema_it_reads_is_there(db):
    schema = HttpClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["info"]["title"] == "Imperium API" and "/webhook/{client_slug}" in schema["paths"]


def test_the_admin_links_to_it(superuser, login):
    page = login(superuser).get("/admin/").content.decode()
    assert 'id="api-docs-link" href="/api/docs/"' in page
