"""Signing in: nobody reaches the upload page or record-level views without an editor account (bcrypt, paused after
five failures) or an allowed identity-provider account; there is no default password; XSRF protection stays on."""
from __future__ import annotations

import tomllib
from pathlib import Path

import bcrypt
import pytest
from streamlit.testing.v1 import AppTest

from analytics import auth, upload
from tests.packs import write_tiny_pack

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "7_Upload_data.py")
PASSWORD = "correct horse battery staple"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()  # few rounds: fast tests, same check
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "dashboard", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}


@pytest.fixture(autouse=True)
def fresh_throttles():
    auth.forget_failures()
    yield
    auth.forget_failures()


@pytest.fixture
def page_env(tmp_path, monkeypatch):
    monkeypatch.setenv("REACH_PACK", str(write_tiny_pack(tmp_path / "pack")))
    monkeypatch.setenv("REACH_DB", str(tmp_path / "store.duckdb"))


def app(path: str = PAGE, secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(path, default_timeout=120)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at.run()


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def shows_no_records(at: AppTest) -> bool:
    return len(at.file_uploader) == 0 and len(at.dataframe) == 0


def test_without_any_editor_the_page_says_how_to_set_one_up(page_env):
    at = app()
    assert not at.exception
    assert shows_no_records(at)
    text = at.info[0].value
    assert "python -m analytics.auth hash" in text and "[editors.accounts]" in text
    assert ".streamlit/secrets.toml" in text


def test_signed_out_user_sees_the_sign_in_form_only(page_env):
    at = app(secrets={"editors": {"accounts": {"lead": HASH}}})
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert shows_no_records(at)


def test_signing_in_with_a_bcrypt_account_shows_the_uploader_and_signing_out_hides_it(page_env):
    at = sign_in(app(secrets={"editors": {"accounts": {"lead": HASH}}}), "lead", PASSWORD)
    assert not at.exception and len(at.file_uploader) == 1
    assert at.sidebar.caption[0].value == "Signed in as **lead**"
    at.sidebar.button(key="sign_out").click().run()
    assert shows_no_records(at) and len(at.text_input) == 2


def test_wrong_password_is_refused_and_five_failures_pause_sign_in(page_env):
    at = app(secrets={"editors": {"accounts": {"lead": HASH}}})
    for _ in range(4):
        sign_in(at, "lead", "wrong password")
        assert at.error[0].value == "The username or password is not right."
    sign_in(at, "lead", "wrong password")
    assert at.error[0].value.startswith("Too many failed attempts. Try again in 60 seconds")
    sign_in(at, "lead", PASSWORD)  # even the right password, for a minute
    assert "Too many failed attempts" in at.error[0].value and shows_no_records(at)


def test_the_pause_also_holds_for_a_new_session_and_ends_after_a_minute():
    session = auth.Throttle()
    for _ in range(auth.MAX_FAILURES):
        assert auth.sign_in({"lead": HASH}, "lead", "nope", session, now=100.0)[0] is False
    ok, message = auth.sign_in({"lead": HASH}, "lead", PASSWORD, auth.Throttle(), now=130.0)
    assert not ok and "Try again in 30 seconds" in message
    assert auth.sign_in({"lead": HASH}, "lead", PASSWORD, auth.Throttle(), now=161.0)[0] is True


def test_unknown_user_and_malformed_hash_never_sign_in():
    assert auth.sign_in({"lead": HASH}, "nobody", PASSWORD, auth.Throttle(), now=0.0)[0] is False
    assert auth.sign_in({"lead": "plain-text-password"}, "lead", "plain-text-password", auth.Throttle(),
                        now=0.0)[0] is False


def test_viewers_need_no_account_unless_configured(page_env):
    at = app(str(ROOT / "dashboard.py"), secrets={"editors": {"accounts": {"lead": HASH}}})
    assert len(at.metric) >= 3 and not at.text_input
    at = app(str(ROOT / "dashboard.py"), secrets={"auth": {"viewers_need_sign_in": True},
                                                  "editors": {"accounts": {"lead": HASH}}})
    assert len(at.metric) == 0 and [t.label for t in at.text_input] == ["Username", "Password"]
    sign_in(at, "lead", PASSWORD)
    assert not at.exception and len(at.metric) >= 3


def test_identity_provider_signed_out_user_gets_a_sign_in_button_only(page_env):
    at = app(secrets={"auth": OIDC, "editors": {"emails": ["lead@example.org"]}}, user={"is_logged_in": False})
    assert not at.exception and shows_no_records(at)
    assert [b.label for b in at.button] == ["Sign in"] or any("Authlib" in e.value for e in at.error)


def test_identity_provider_user_must_be_on_the_editors_list(page_env):
    secrets = {"auth": OIDC, "editors": {"emails": ["Lead@Example.org"]}}
    at = app(secrets=secrets, user={"is_logged_in": True, "email": "someone@example.org"})
    assert shows_no_records(at) and "not on the editors' list" in at.warning[-1].value
    at = app(secrets=secrets, user={"is_logged_in": True, "email": "lead@example.org"})
    assert not at.exception and len(at.file_uploader) == 1


def test_settings_are_read_from_secrets():
    assert auth.settings({}) == auth.Settings(False, frozenset(), {}, {}, False)
    assert not auth.settings({}).editors_configured
    provider = {"redirect_uri": "x", "cookie_secret": "y", "microsoft": {k: "z" for k in auth.OIDC_KEYS[2:]}}
    assert auth.settings({"auth": provider}).oidc
    assert not auth.settings({"auth": {"redirect_uri": "x", "viewers_need_sign_in": True}}).oidc
    assert auth.settings({"auth": {"viewers_need_sign_in": "yes"}}).viewers_need_sign_in is False  # only true


def test_hash_command_prompts_twice_and_prints_the_secrets_lines(monkeypatch, capsys):
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt="": next(answers))
    assert auth.main(["hash"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("engagement-lead = "))
    hashed = line.split('"')[1]
    assert "[editors.accounts]" in out and hashed.startswith("$2b$") and PASSWORD not in out
    assert auth.check_password(PASSWORD, hashed) and not auth.check_password("other", hashed)
    assert auth.hash_password(PASSWORD) != auth.hash_password(PASSWORD)  # salted


@pytest.mark.parametrize("answers, message", [
    (["short"], "at least 12 characters"),
    ([PASSWORD, PASSWORD + "!"], "The two passwords differ"),
])
def test_hash_command_refuses_short_or_mismatched_passwords(monkeypatch, capsys, answers, message):
    given = iter(answers)
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt="": next(given))
    assert auth.main(["hash"]) == 1
    assert message in capsys.readouterr().err


def test_shipped_config_keeps_xsrf_protection_on_and_the_upload_limit():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["enableXsrfProtection"] is True
    assert server["maxUploadSize"] == upload.MAX_UPLOAD_MB


def test_the_secrets_example_has_no_usable_password():
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text())
    settings = auth.settings(example)
    assert not settings.editors_configured and not settings.oidc and not settings.viewers_need_sign_in
