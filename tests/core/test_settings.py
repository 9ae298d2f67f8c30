"""core.settings: defaults, validation, corrupt files kept aside, atomic save, migrations."""

import dataclasses
import json

import pytest

from core import settings as settings_mod
from core.errors import SettingsError
from core.formats import COPY_FORMATS
from core.settings import Settings, load_settings, save_settings


@pytest.fixture
def path(tmp_path):
    return tmp_path / "settings.json"


def corrupt_copies(path):
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


def test_defaults():
    s = Settings()
    assert s.hotkey == "Ctrl+Alt+M"
    assert s.beam == 3 and s.alternatives == 3 and s.all_sizes is True
    assert s.device == "auto" and s.copy_format == "raw" and s.theme == "system"
    assert s.auto_copy is False and s.api_enabled is False
    assert s.model == "base" and s.data_dir == ""
    assert s.live_recognition_delay_ms == 700 and s.pen_width == 3.0
    assert s.api_port == 8765 and s.api_allowed_origins == []
    assert s.schema_version == settings_mod.SCHEMA_VERSION == 2
    assert s.copy_format in COPY_FORMATS
    # mutable default is not shared between instances
    a, b = Settings(), Settings()
    a.api_allowed_origins.append("http://x")
    assert b.api_allowed_origins == []


def test_missing_file_gives_defaults_without_notice(path):
    s, notice = load_settings(path)
    assert s == Settings() and notice is None
    assert not path.exists()


def test_save_load_round_trip(path):
    s = Settings(
        hotkey="Ctrl+Shift+L",
        beam=5,
        all_sizes=False,
        device="cpu",
        copy_format="mathml",
        auto_copy=True,
        theme="dark",
        model="ft-2026",
        pen_width=4.5,
        api_enabled=True,
        api_port=9001,
        api_allowed_origins=["https://overleaf.com", "app://obsidian.md"],
    )
    save_settings(s, path)
    loaded, notice = load_settings(path)
    assert notice is None
    assert loaded == s
    assert json.loads(path.read_text())["beam"] == 5
    assert not list(path.parent.glob("*.tmp"))


def test_default_path_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXSNAP_CONFIG_DIR", str(tmp_path / "cfg"))
    written = save_settings(Settings(beam=2))
    assert written == tmp_path / "cfg" / "settings.json"
    assert load_settings()[0].beam == 2


@pytest.mark.parametrize(
    "content, why",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "JSON object"),
        ('"just a string"', "JSON object"),
        ("", "not valid JSON"),
    ],
)
def test_corrupt_file_gives_defaults_and_is_kept(path, content, why):
    path.write_text(content)
    s, notice = load_settings(path)
    assert s == Settings()
    assert notice and why in notice and "default" in notice
    kept = corrupt_copies(path)
    assert len(kept) == 1 and kept[0].read_text() == content
    assert kept[0].name in notice


def test_undecodable_bytes(path):
    path.write_bytes(b"\xff\xfe\x00garbage\x80")
    s, notice = load_settings(path)
    assert s == Settings() and notice
    assert corrupt_copies(path)[0].read_bytes() == b"\xff\xfe\x00garbage\x80"


def test_bad_fields_reset_individually(path):
    path.write_text(
        json.dumps(
            {
                "beam": "five",
                "device": "tpu",
                "theme": "dark",
                "auto_copy": "yes",
                "all_sizes": "no",
                "copy_format": "html",
                "api_allowed_origins": "http://a",
                "hotkey": "",
                "pen_width": 2.5,
                "schema_version": 2,
            }
        )
    )
    s, notice = load_settings(path)
    assert s.theme == "dark" and s.pen_width == 2.5  # good fields kept
    assert s.beam == 3 and s.device == "auto" and s.auto_copy is False and s.all_sizes is True
    assert s.copy_format == "raw" and s.api_allowed_origins == [] and s.hotkey == "Ctrl+Alt+M"
    names = ("beam", "device", "auto_copy", "all_sizes", "copy_format", "api_allowed_origins")
    for name in (*names, "hotkey"):
        assert name in notice
    assert "theme" not in notice
    assert len(corrupt_copies(path)) == 1


def test_out_of_range_numbers_are_clamped(path):
    path.write_text(json.dumps({"beam": 50, "api_port": 80, "pen_width": 0.0, "schema_version": 2}))
    s, notice = load_settings(path)
    assert s.beam == 10 and s.api_port == 1024 and s.pen_width == 0.5
    assert "beam" in notice and "out of range" in notice


def test_bool_is_not_an_int(path):
    path.write_text(json.dumps({"beam": True}))
    s, notice = load_settings(path)
    assert s.beam == 3 and "beam" in notice


def test_unknown_keys_ignored_silently(path):
    path.write_text(json.dumps({"beam": 4, "future_option": 1, "schema_version": 2}))
    s, notice = load_settings(path)
    assert s.beam == 4 and notice is None
    assert not corrupt_copies(path)


def test_migration_from_unversioned_file(path, monkeypatch):
    seen = []

    def migrate_0(raw):
        seen.append(dict(raw))
        raw = dict(raw)
        raw["hotkey"] = raw.pop("shortcut")
        return raw

    monkeypatch.setitem(settings_mod._MIGRATIONS, 0, migrate_0)
    path.write_text(json.dumps({"shortcut": "Ctrl+Q", "beam": 2}))
    s, notice = load_settings(path)
    assert seen and "schema_version" not in seen[0]
    assert s.hotkey == "Ctrl+Q" and s.beam == 2 and s.schema_version == 2
    assert notice is None


def test_newer_schema_is_read_as_far_as_known(path):
    path.write_text(json.dumps({"schema_version": 99, "beam": 7, "new_thing": [1]}))
    s, notice = load_settings(path)
    assert s.beam == 7 and s.schema_version == 2 and notice is None


def test_validated_clamps_and_resets():
    s = Settings(beam=0, alternatives=-3, device="gpu", pen_width=float("nan"), theme=3)
    v = s.validated()
    assert v.beam == 1 and v.alternatives == 0
    assert v.device == "auto" and v.pen_width == 3.0 and v.theme == "system"
    assert s.beam == 0  # the original is untouched
    assert Settings().validated() == Settings()


def test_save_rejects_invalid(path):
    with pytest.raises(SettingsError, match="device"):
        save_settings(Settings(device="tpu"), path)
    assert not path.exists()


def test_save_is_atomic_when_write_fails(path, monkeypatch):
    save_settings(Settings(beam=4), path)
    original = path.read_text()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_mod.os, "replace", boom)
    with pytest.raises(SettingsError, match="No space left"):
        save_settings(Settings(beam=9), path)
    assert path.read_text() == original
    assert not list(path.parent.glob("*.tmp"))


def test_saved_file_holds_every_field(path):
    save_settings(Settings(), path)
    data = json.loads(path.read_text())
    assert set(data) == {f.name for f in dataclasses.fields(Settings)}


# --- the local API settings -------------------------------------------------------------------


def test_version_1_server_settings_become_api_settings(path):
    old = {
        "schema_version": 1,
        "server_enabled": True,
        "server_port": 9100,
        "allowed_origins": ["app://obsidian.md"],
        "beam": 4,
    }
    path.write_text(json.dumps(old))
    s, notice = load_settings(path)
    assert notice is None
    assert s.api_enabled is True and s.api_port == 9100
    assert s.api_allowed_origins == ["app://obsidian.md"] and s.beam == 4
    save_settings(s, path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2 and "server_port" not in data


def test_unversioned_file_is_migrated_through_every_version(path):
    path.write_text(json.dumps({"server_enabled": True, "server_port": 9000}))
    s, notice = load_settings(path)
    assert notice is None and s.api_enabled is True and s.api_port == 9000


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("https://www.overleaf.com", "https://www.overleaf.com"),
        ("  HTTPS://Www.Overleaf.com/ ", "https://www.overleaf.com"),
        ("app://obsidian.md", "app://obsidian.md"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://example.org:443", "https://example.org"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("vscode-webview://abc123", "vscode-webview://abc123"),
    ],
)
def test_origins_are_normalized_as_browsers_send_them(raw, expected):
    assert settings_mod.normalize_origin(raw) == expected


@pytest.mark.parametrize(
    "raw, why",
    [
        ("*", "any web page"),
        ("null", "any web page"),
        ("", "not a web origin"),
        ("overleaf.com", "not a web origin"),
        ("https://overleaf.com/project", "not a web origin"),
        ("https://overleaf.com?x=1", "not a web origin"),
        ("https://user@overleaf.com", "not a web origin"),
        ("http://localhost:99999", "not a web origin"),
        ("https://over leaf.com", "not a web origin"),
    ],
)
def test_bad_origins_are_refused_with_a_reason(raw, why):
    with pytest.raises(SettingsError, match=why):
        settings_mod.normalize_origin(raw)


def test_bad_api_settings_in_the_file_fall_back(path):
    path.write_text(
        json.dumps(
            {
                "schema_version": 2,
                "api_enabled": "on",
                "api_port": "8765",
                "api_allowed_origins": ["app://obsidian.md", "*", 7, "https://a.org/"],
            }
        )
    )
    s, notice = load_settings(path)
    assert s.api_enabled is False and s.api_port == 8765
    assert s.api_allowed_origins == ["app://obsidian.md"]  # the valid entry survives
    assert "api_enabled" in notice and "api_port" in notice
    assert "api_allowed_origins had invalid entries" in notice and "'*'" in notice
    assert len(corrupt_copies(path)) == 1


def test_save_refuses_a_wildcard_origin(path):
    with pytest.raises(SettingsError, match="api_allowed_origins"):
        save_settings(Settings(api_allowed_origins=["*"]), path)
    with pytest.raises(SettingsError, match="api_port"):
        save_settings(Settings(api_port=70000), path)
