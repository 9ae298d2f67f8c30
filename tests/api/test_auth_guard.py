"""Who may use the API: bearer token, Origin (web pages), Host (DNS rebinding)."""

import logging

import pytest
from api_helpers import AUTH, TOKEN, FakeRecognizer, make_client, png_bytes

from core.server import ServerConfig


def error_code(response):
    return response.json()["error"]["code"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN.upper()}"},
        {"Authorization": "Bearer \u00e9t\u00e9".encode("latin-1")},
    ],
)
def test_missing_or_wrong_token_is_401(client, fake, headers):
    for response in (
        client.get("/v1/health", headers=headers),
        client.post("/v1/recognize", content=png_bytes(), headers=headers),
    ):
        assert response.status_code == 401
        assert error_code(response) == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in response.text
    assert fake.calls == 0


def test_token_is_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/v1/recognize", content=png_bytes(), headers=AUTH)
    client.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}zz"})
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_health(client):
    response = client.get("/v1/health", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["model"] == {"name": "fake"}
    assert body["queue"] == {"waiting": 0, "capacity": 4}


def test_docs_and_openapi_need_no_token(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/recognize", "/v1/health"}
    body = spec["paths"]["/v1/recognize"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "application/octet-stream"} <= set(body)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_callable_token_takes_effect_at_once(fake):
    current = {"token": "first"}
    client, worker = make_client(fake, token=lambda: current["token"])
    with client:
        ok = client.get("/v1/health", headers={"Authorization": "Bearer first"})
        assert ok.status_code == 200
        current["token"] = "second"
        old = client.get("/v1/health", headers={"Authorization": "Bearer first"})
        assert old.status_code == 401
        new = client.get("/v1/health", headers={"Authorization": "Bearer second"})
        assert new.status_code == 200
    worker.close()


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://127.0.0.1:8765", "file://"]
)
def test_requests_from_web_pages_are_refused(client, fake, origin):
    headers = {**AUTH, "Origin": origin}
    for response in (
        client.post("/v1/recognize", content=png_bytes(), headers=headers),
        client.get("/v1/health", headers=headers),
        client.options(
            "/v1/recognize",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        ),
    ):
        assert response.status_code == 403
        assert error_code(response) == "origin_not_allowed"
        assert "access-control-allow-origin" not in response.headers
    assert fake.calls == 0


def test_allowed_origin_gets_cors():
    fake = FakeRecognizer()
    config = ServerConfig(allowed_origins=("app://obsidian.md",))
    client, worker = make_client(fake, config=config)
    with client:
        preflight = client.options(
            "/v1/recognize",
            headers={
                "Origin": "app://obsidian.md",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "app://obsidian.md"
        response = client.post(
            "/v1/recognize",
            content=png_bytes(),
            headers={**AUTH, "Origin": "app://obsidian.md"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "app://obsidian.md"
        other = client.post(
            "/v1/recognize", content=png_bytes(), headers={**AUTH, "Origin": "https://x.org"}
        )
        assert other.status_code == 403
        no_token = client.post(
            "/v1/recognize", content=png_bytes(), headers={"Origin": "app://obsidian.md"}
        )
        assert no_token.status_code == 401  # an allowed origin still needs the token
    worker.close()


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.0.0.1:8765", 200),
        ("localhost:8765", 200),
        ("localhost", 200),
        ("LocalHost:8765", 200),
        ("[::1]:8765", 200),
        ("evil.example:8765", 403),
        ("attacker.example", 403),
        ("127.0.0.1.nip.io", 403),
    ],
)
def test_host_header_must_name_this_machine(client, host, status):
    response = client.get("/v1/health", headers={**AUTH, "Host": host})
    assert response.status_code == status
    if status == 403:
        assert error_code(response) == "host_not_allowed"


def test_two_origin_headers_are_refused_if_either_is_foreign(fake):
    client, worker = make_client(fake, config=ServerConfig(allowed_origins=("app://ok",)))
    with client:
        headers = [("Authorization", f"Bearer {TOKEN}"), ("Origin", "app://ok")]
        r = client.get("/v1/health", headers=headers + [("Origin", "https://evil.example")])
        assert r.status_code == 403
        assert client.get("/v1/health", headers=headers).status_code == 200
    worker.close()


def test_wildcard_bind_accepts_any_host(fake):
    client, worker = make_client(fake, config=ServerConfig(bind_host="0.0.0.0"))
    with client:
        response = client.get("/v1/health", headers={**AUTH, "Host": "mybox.lan:8765"})
        assert response.status_code == 200
    worker.close()


def test_unknown_paths_and_methods_are_json(client):
    assert error_code(client.get("/nope", headers=AUTH)) == "not_found"
    response = client.get("/v1/recognize", headers=AUTH)
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"


def test_shipped_openapi_file_is_current():
    """docs/openapi.json is what the app serves; `python scripts/write_openapi.py` updates it."""
    import json
    from pathlib import Path

    from fastapi.testclient import TestClient

    from core.server import create_app

    root = Path(__file__).resolve().parents[2]
    shipped = json.loads((root / "docs" / "openapi.json").read_text(encoding="utf-8"))
    app = create_app(lambda *a: None, token="unused")
    assert TestClient(app).app.openapi() == shipped
