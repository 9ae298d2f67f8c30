"""POST /v1/recognize: the three upload forms, options, and every kind of broken body."""

import base64
import functools
import io
import json
import os

import pytest
from api_helpers import AUTH, FakeRecognizer, make_client, png_bytes
from PIL import Image

from core.server import ServerConfig


def error_code(response):
    return response.json()["error"]["code"]


def check_result(body):
    assert set(body) <= {"latex", "confidence", "alternatives", "unsure", "ms", "empty_reason"}
    assert isinstance(body["latex"], str) and 0.0 <= body["confidence"] <= 1.0
    assert body["ms"] >= 0
    for alt in body["alternatives"]:
        assert set(alt) == {"latex", "confidence"}
    for part in body.get("unsure", []):  # where the model was unsure, as offsets into latex
        assert set(part) == {"start", "end", "text", "probability"}
        assert body["latex"][part["start"] : part["end"]] == part["text"]
        assert 0.0 <= part["probability"] < 0.5


# --- the three forms, with the real (random) model ------------------------------------------


def test_three_forms_give_the_same_answer(model_client):
    png = png_bytes(r"\frac{a}{b}")
    raw = model_client.post(
        "/v1/recognize", content=png, headers={**AUTH, "Content-Type": "image/png"}
    )
    octet = model_client.post("/v1/recognize", content=png, headers=AUTH)  # no content type
    multipart = model_client.post(
        "/v1/recognize", files={"image": ("f.png", png, "image/png")}, headers=AUTH
    )
    b64 = base64.b64encode(png).decode()
    as_json = model_client.post("/v1/recognize", json={"image": b64}, headers=AUTH)
    data_url = model_client.post(
        "/v1/recognize", json={"image": f"data:image/png;base64,{b64}"}, headers=AUTH
    )
    wrapped = "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))  # MIME line breaks
    as_lines = model_client.post("/v1/recognize", json={"image": wrapped}, headers=AUTH)
    answers = []
    for response in (raw, octet, multipart, as_json, data_url, as_lines):
        assert response.status_code == 200, response.text
        check_result(response.json())
        answers.append(response.json()["latex"])
    assert len(set(answers)) == 1


def test_options_beam_and_alternatives(client, fake):
    png = png_bytes()
    r = client.post("/v1/recognize?beam=3&alternatives=1", content=png, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["latex"].endswith("b3") and len(r.json()["alternatives"]) == 1
    r = client.post(
        "/v1/recognize",
        json={"image": base64.b64encode(png).decode(), "beam": 2, "alternatives": 0},
        headers=AUTH,
    )
    assert r.json()["latex"].endswith("b2") and r.json()["alternatives"] == []
    r = client.post(
        "/v1/recognize",
        files={"image": ("a.png", png)},
        data={"beam": "4", "alternatives": "2"},
        headers=AUTH,
    )
    assert r.json()["latex"].endswith("b4") and len(r.json()["alternatives"]) == 2
    assert client.post("/v1/recognize", content=png, headers=AUTH).json()["latex"].endswith("bNone")
    assert fake.threads == {"model-worker"}  # only the worker thread touched the model


@pytest.mark.parametrize(
    "query, body",
    [
        ("?beam=0", None),
        ("?beam=11", None),
        ("?beam=abc", None),
        ("?alternatives=-1", None),
        ("?alternatives=99", None),
        ("", {"beam": "x"}),
        ("", {"beam": 1.5}),
        ("", {"beam": True}),
        ("", {"alternatives": 1000}),
    ],
)
def test_invalid_options_are_422(client, fake, query, body):
    png = png_bytes()
    if body is None:
        r = client.post(f"/v1/recognize{query}", content=png, headers=AUTH)
    else:
        r = client.post(
            "/v1/recognize", json={"image": base64.b64encode(png).decode(), **body}, headers=AUTH
        )
    assert r.status_code == 422 and error_code(r) == "invalid_option"
    assert fake.calls == 0


def test_blank_image_is_an_empty_answer(model_client):
    blank = io.BytesIO()
    Image.new("RGB", (200, 80), "white").save(blank, format="PNG")
    r = model_client.post("/v1/recognize", content=blank.getvalue(), headers=AUTH)
    assert r.status_code == 200
    assert r.json()["latex"] == "" and "blank" in r.json()["empty_reason"]


def test_other_formats(model_client):
    for fmt in ("JPEG", "GIF", "TIFF", "WEBP", "BMP"):
        r = model_client.post("/v1/recognize", content=png_bytes(fmt=fmt), headers=AUTH)
        assert r.status_code == 200, (fmt, r.text)


# --- broken bodies ---------------------------------------------------------------------------


@functools.cache
def bomb_png(side=8000) -> bytes:
    """A 64 MP white PNG: a few hundred kB on the wire, ~200 MB once decoded."""
    buf = io.BytesIO()
    Image.new("1", (side, side), 1).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


@pytest.mark.parametrize(
    "kwargs, status, code",
    [
        ({"content": b""}, 400, "empty_body"),
        ({"content": png_bytes()[:60]}, 400, "invalid_image"),
        ({"content": png_bytes()[:-30]}, 400, "invalid_image"),
        ({"content": os.urandom(3000)}, 400, "invalid_image"),
        ({"content": b"GIF89a" + os.urandom(200)}, 400, "invalid_image"),
        ({"content": b"<svg xmlns='http://www.w3.org/2000/svg'/>"}, 400, "invalid_image"),
        ({"json": {"image": "!!!not base64!!!"}}, 400, "bad_base64"),
        ({"json": {"image": "abc"}}, 400, "bad_base64"),
        ({"json": {"image": "data:image/png,abcd"}}, 400, "bad_base64"),
        ({"json": {"image": ""}}, 400, "missing_image"),
        ({"json": {"image": 42}}, 400, "missing_image"),
        ({"json": {"picture": "aGVsbG8="}}, 400, "missing_image"),
        ({"json": {"image": base64.b64encode(os.urandom(100)).decode()}}, 400, "invalid_image"),
        ({"json": ["image"]}, 400, "bad_json"),
        (
            {"content": b'{"image": ', "headers": {"Content-Type": "application/json"}},
            400,
            "bad_json",
        ),
        (
            {"content": b"\xff\xfe{", "headers": {"Content-Type": "application/json"}},
            400,
            "bad_json",
        ),
        (
            {"content": b"[" * 100_000, "headers": {"Content-Type": "application/json"}},
            400,
            "bad_json",
        ),
        ({"files": {"other": ("a.png", b"x")}}, 400, "missing_image"),
        ({"data": {"image": "not a file"}, "files": {"x": ("x", b"")}}, 400, "missing_image"),
        (
            {
                "content": b"--zz\r\n",
                "headers": {"Content-Type": "multipart/form-data; boundary=zz"},
            },
            400,
            "missing_image",
        ),
        (
            {"content": b"abc", "headers": {"Content-Type": "multipart/form-data"}},
            400,
            "bad_request",
        ),
        ({"content": "BOMB"}, 400, "invalid_image"),
    ],
)
def test_broken_bodies_get_a_clear_error(client, fake, kwargs, status, code):
    kwargs = dict(kwargs)
    headers = {**AUTH, **kwargs.pop("headers", {})}
    if kwargs.get("content") == "BOMB":
        kwargs["content"] = bomb_png()
    r = client.post("/v1/recognize", headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert error_code(r) == code
    message = r.json()["error"]["message"]
    assert message and message[0].isupper() and "Traceback" not in message
    assert fake.calls == 0  # nothing broken ever reaches the model


def test_bomb_message_names_the_limit(client):
    r = client.post("/v1/recognize", content=bomb_png(), headers=AUTH)
    assert "MP" in r.json()["error"]["message"]


def test_oversize_body_is_413():
    fake = FakeRecognizer()
    client, worker = make_client(fake, config=ServerConfig(max_body_bytes=50_000))
    with client:
        big = os.urandom(60_000)
        r = client.post("/v1/recognize", content=big, headers=AUTH)
        assert r.status_code == 413 and error_code(r) == "body_too_large"

        def chunks():  # no Content-Length: the limit is enforced while streaming
            for _ in range(10):
                yield os.urandom(10_000)

        r = client.post("/v1/recognize", content=chunks(), headers=AUTH)
        assert r.status_code == 413 and error_code(r) == "body_too_large"
        b64 = base64.b64encode(big).decode()
        r = client.post("/v1/recognize", json={"image": b64}, headers=AUTH)
        assert r.status_code == 413
        r = client.post("/v1/recognize", files={"image": ("a", big)}, headers=AUTH)
        assert r.status_code == 413
        r = client.post("/v1/recognize", content=b"x", headers={**AUTH, "Content-Length": "zz"})
        assert r.status_code == 400
        assert client.post("/v1/recognize", content=png_bytes(), headers=AUTH).status_code == 200
    worker.close()
    assert fake.calls == 1


def test_pixel_limit_is_configurable():
    fake = FakeRecognizer()
    client, worker = make_client(fake, config=ServerConfig(max_pixels=100 * 100))
    with client:
        r = client.post("/v1/recognize", content=png_bytes(size=(200, 60)), headers=AUTH)
        assert r.status_code == 400 and "limit" in r.json()["error"]["message"]
        r = client.post("/v1/recognize", content=png_bytes(size=(90, 60)), headers=AUTH)
        assert r.status_code == 200
    worker.close()


def test_error_body_shape_is_json(client):
    r = client.post("/v1/recognize", content=b"", headers=AUTH)
    assert r.headers["content-type"] == "application/json"
    assert json.loads(r.text) == {
        "error": {"code": "empty_body", "message": "The request holds no image (0 bytes)."}
    }
