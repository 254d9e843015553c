"""Config validation: one clear message per problem, naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsconsole.config import Settings, load_settings
from opsconsole.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_a_file(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "absent.yaml", environ={})
    assert s.model.name == "deepseek-chat"
    assert s.model.base_url == "https://api.deepseek.com"
    assert s.agent.max_steps == 20
    assert s.agent.write_mode is False


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.yaml", environ={}, explicit=True)


def test_unknown_key_names_file_key_and_known_keys(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  nmae: gpt-4o\n")
    with pytest.raises(ConfigError) as err:
        load_settings(f, environ={})
    msg = str(err.value)
    assert str(f) in msg
    assert "model.nmae: unknown key" in msg
    assert "name" in msg and "base_url" in msg


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("agent:\n  max_steps: lots\n")
    with pytest.raises(ConfigError, match=r"agent\.max_steps: .*integer"):
        load_settings(f, environ={})


def test_malformed_yaml_gives_line(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"invalid YAML .* line \d+"):
        load_settings(f, environ={})


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(f, environ={})


def test_env_overrides(tmp_path: Path) -> None:
    s = load_settings(
        tmp_path / "absent.yaml",
        environ={"OPSCONSOLE_MODEL__NAME": "gpt-4o-mini", "OPSCONSOLE_AGENT__MAX_STEPS": "7"},
    )
    assert s.model.name == "gpt-4o-mini"
    assert s.agent.max_steps == 7


def test_env_override_error_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"(?s)environment .*agent\.max_stepz: unknown key"):
        load_settings(tmp_path / "absent.yaml", environ={"OPSCONSOLE_AGENT__MAX_STEPZ": "7"})


def test_api_key_only_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test-123")
    s = Settings()
    assert s.model.api_key() == "sk-test-123"
    assert "sk-test-123" not in repr(s.to_dict())


def test_example_config_is_valid_and_complete(tmp_path: Path) -> None:
    example = ROOT / "config.example.yaml"
    s = load_settings(example, environ={}, explicit=True)
    assert s == Settings()  # the example documents the defaults
    import yaml

    data = yaml.safe_load(example.read_text())

    def keys(model, prefix=""):
        out = set()
        for name, ann in model.field_types().items():
            out.add(prefix + name)
            if isinstance(ann, type) and hasattr(ann, "field_types"):
                out |= keys(ann, prefix + name + ".")
        return out

    def doc_keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            if isinstance(v, dict) and v and k != "keymap":
                out |= doc_keys(v, prefix + k + ".")
        return out

    assert keys(Settings) == doc_keys(data)


def test_openai_base_url_falls_back_to_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    s = Settings()
    assert s.model.api_key() is None  # DeepSeek never gets the OpenAI key
    openai = s.model.replace(base_url="https://api.openai.com/v1")
    assert openai.api_key() == "sk-openai"
