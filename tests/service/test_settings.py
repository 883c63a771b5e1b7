"""Settings are read strictly: a bad value stops the start and names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import DEFAULT_MODEL_DIR, Thresholds
from service.settings import ConfigError, load_settings


def test_defaults_are_sqlite_in_the_instance_folder_and_the_shipped_model(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.database_url == f"sqlite:///{tmp_path / 'spamward.sqlite'}"
    assert settings.model_dir == DEFAULT_MODEL_DIR
    assert settings.max_content_bytes == 64 * 1024
    assert settings.max_batch == 1000
    assert settings.thresholds is None
    assert settings.webhooks is True


def test_webhook_delivery_can_be_turned_off(tmp_path: Path) -> None:
    assert load_settings(tmp_path, {"SPAMWARD_WEBHOOKS": "false"}).webhooks is False


def test_environment_variables_override_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {
            "SPAMWARD_DATABASE_URL": "postgresql://spam@db.example/spamward",
            "SPAMWARD_MAX_BATCH": "50",
            "SPAMWARD_UNSURE_THRESHOLD": "0.2",
            "SPAMWARD_SPAM_THRESHOLD": "0.8",
            "SPAMWARD_DISCARD_THRESHOLD": "0.99",
        },
    )
    assert settings.database_url == "postgresql+psycopg://spam@db.example/spamward"
    assert settings.max_batch == 50
    assert settings.thresholds == Thresholds(0.2, 0.8, 0.99)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SPAMWARD_MAX_CONTENT_BYTES", "64k", "positive whole number"),
        ("SPAMWARD_MAX_CONTENT_BYTES", "0", "positive whole number"),
        ("SPAMWARD_MAX_BATCH", "-1", "positive whole number"),
        ("SPAMWARD_DATABASE_URL", "mysql://x", "sqlite:///PATH"),
        ("SPAMWARD_MODEL_DIR", "/nonexistent", "card.json"),
        ("SPAMWARD_SPAM_THRESHOLD", "1.5", "from 0 to 1"),
        ("SPAMWARD_SPAM_THRESHOLD", "nan", "from 0 to 1"),
        ("SPAMWARD_SITE_CACHE_SECONDS", "-1", "seconds from 0 to 3600"),
        ("SPAMWARD_WRITE_BEHIND", "maybe", "true or false"),
        ("SPAMWARD_WRITE_WINDOW_SECONDS", "6", "seconds from 0 to 5"),
        ("SPAMWARD_WRITE_WINDOW_SECONDS", "50ms", "seconds from 0 to 5"),
        ("SPAMWARD_WEBHOOKS", "on", "true or false"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_expected_form(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {name: value})
    assert name in str(caught.value)
    assert expected in str(caught.value)


def test_thresholds_come_as_all_three_or_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="all three"):
        load_settings(tmp_path, {"SPAMWARD_SPAM_THRESHOLD": "0.9"})


def test_thresholds_out_of_order_are_refused(tmp_path: Path) -> None:
    environ = {
        "SPAMWARD_UNSURE_THRESHOLD": "0.9",
        "SPAMWARD_SPAM_THRESHOLD": "0.5",
        "SPAMWARD_DISCARD_THRESHOLD": "0.99",
    }
    with pytest.raises(ConfigError, match="unsure <= spam <= discard"):
        load_settings(tmp_path, environ)


def test_the_instance_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "spamward.toml").write_text('max_batch = 10\nmax_content_bytes = "2048"\n')
    settings = load_settings(tmp_path, {"SPAMWARD_MAX_BATCH": "20"})
    assert settings.max_batch == 20
    assert settings.max_content_bytes == 2048


def test_an_unknown_setting_in_the_instance_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "spamward.toml").write_text("max_bach = 10\n")
    with pytest.raises(ConfigError, match="max_bach"):
        load_settings(tmp_path, {})


def test_a_misspelt_spamward_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SPAMWARD_DATABSE_URL"):
        load_settings(tmp_path, {"SPAMWARD_DATABSE_URL": "sqlite:///x"})


def test_other_variables_and_the_test_tools_own_are_ignored(tmp_path: Path) -> None:
    environ = {"HOME": "/root", "SPAMWARD_CORPORA": "/data", "SPAMWARD_REQUIRE_CORPORA": "1"}
    assert load_settings(tmp_path, environ).max_batch == 1000


def test_moderation_settings_default_to_secure_cookies_and_memory_rate_limits(
    tmp_path: Path,
) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.secure_cookies is True
    assert settings.ratelimit_storage_uri == "memory://"


def test_moderation_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {
            "SPAMWARD_SECURE_COOKIES": "false",
            "SPAMWARD_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        },
    )
    assert settings.secure_cookies is False
    assert settings.ratelimit_storage_uri == "redis://127.0.0.1:6379"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SPAMWARD_SECURE_COOKIES", "sometimes", "true or false"),
        ("SPAMWARD_RATELIMIT_STORAGE_URI", "redis-server", "storage URI"),
    ],
)
def test_a_bad_moderation_setting_names_the_variable(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {name: value})
    assert name in str(caught.value) and expected in str(caught.value)


def test_spamward_require_browser_is_known_but_not_a_service_setting(tmp_path: Path) -> None:
    load_settings(tmp_path, {"SPAMWARD_REQUIRE_BROWSER": "1"})
