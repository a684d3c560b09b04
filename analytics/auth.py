"""Who may upload: editor accounts with bcrypt password hashes, or an identity provider with an allow-list.

Settings come from Streamlit's secrets (`.streamlit/secrets.toml`, never committed; see
`.streamlit/secrets.toml.example`). With an identity provider (`[auth]` holding redirect_uri, cookie_secret,
client_id, client_secret, server_metadata_url) people sign in through `st.login` and editors are the e-mail
addresses in `[editors] emails`. Without one, editors are `[editors.accounts]`: `username = "<bcrypt hash>"`,
made with `python -m analytics.auth hash`. There is no default password. Viewing aggregates needs no account
unless `[auth] viewers_need_sign_in = true`.

This module holds the rules only (no Streamlit): `analytics.ui` draws the forms.
"""
from __future__ import annotations

import getpass
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Mapping

import bcrypt

MAX_FAILURES = 5  # failed sign-ins in a row (per session, and per client and username) before a pause
# Failures from one client (its address) with any usernames before it is paused, so that trying many names from one
# place is slowed too. Issue 19: the pause used to be per username for everyone, so five wrong passwords from an
# anonymous visitor locked the real editor out for a minute; now each client's failures pause only that client.
MAX_CLIENT_FAILURES = 4 * MAX_FAILURES
LOCKOUT_SECONDS = 60
MIN_PASSWORD_LENGTH = 12
OIDC_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
# Checked against when the username is unknown, so a wrong name takes as long as a wrong password (the hash of
# a random string that was then thrown away).
_DUMMY_HASH = "$2b$12$IAvPlhLukTSJohETeV3/S.rVPVMVwwnK6snciPB6pe2nLxkNyrxPK"
_MAX_NAMES = 10_000  # clients and (client, username) pairs tracked for the pause; forgotten (unless paused) past this


@dataclass(frozen=True)
class Settings:
    oidc: bool  # an identity provider is configured: sign in with st.login
    emails: frozenset[str]  # editors' e-mail addresses (identity provider)
    accounts: Mapping[str, str]  # editors' username → bcrypt hash (no identity provider)
    viewer_accounts: Mapping[str, str]
    viewers_need_sign_in: bool

    @property
    def editors_configured(self) -> bool:
        return bool(self.emails) if self.oidc else bool(self.accounts)


def settings(secrets: Mapping) -> Settings:
    """Read the sign-in settings from Streamlit's secrets (a plain mapping; {} when there is no secrets file)."""
    auth = _section(secrets, "auth")
    editors = _section(secrets, "editors")
    providers = [v for v in auth.values() if isinstance(v, Mapping)]
    oidc = all(k in auth for k in OIDC_KEYS[:2]) and (
        all(k in auth for k in OIDC_KEYS[2:]) or any(all(k in p for k in OIDC_KEYS[2:]) for p in providers))
    emails = editors.get("emails", [])
    return Settings(
        oidc=oidc,
        emails=frozenset(str(e).strip().lower() for e in (emails if isinstance(emails, (list, tuple)) else [])),
        accounts=_accounts(_section(editors, "accounts")),
        viewer_accounts=_accounts(_section(_section(secrets, "viewers"), "accounts")),
        viewers_need_sign_in=auth.get("viewers_need_sign_in", False) is True)


def _section(mapping: Mapping, key: str) -> Mapping:
    value = mapping.get(key, {}) if isinstance(mapping, Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def _accounts(section: Mapping) -> dict[str, str]:
    return {str(name): str(hashed) for name, hashed in section.items() if isinstance(hashed, str) and hashed}


def hash_password(password: str) -> str:
    """A salted bcrypt hash of the password, for `[editors.accounts]`."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except (ValueError, UnicodeEncodeError):  # not a bcrypt hash: a mistake in secrets.toml, never a match
        return False


def is_editor_email(config: Settings, email: object) -> bool:
    return isinstance(email, str) and email.strip().lower() in config.emails


@dataclass
class Throttle:
    """Failed attempts and when sign-in opens again; one per session (kept in session state), and in this process
    one per client and username and one per client, so neither a new session nor a new name resets a client's
    pause, while another client (the real editor) is not paused by it."""

    failures: int = 0
    locked_until: float = 0.0
    limit: int = MAX_FAILURES

    def wait(self, now: float) -> int:
        """Seconds until another attempt is allowed (0: now)."""
        return max(0, int(self.locked_until - now + 0.999))

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.limit:
            self.failures, self.locked_until = 0, now + LOCKOUT_SECONDS

    def succeeded(self) -> None:
        self.failures, self.locked_until = 0, 0.0


@dataclass
class _ByName:
    lock: threading.Lock = field(default_factory=threading.Lock)
    throttles: dict[tuple[str, str], Throttle] = field(default_factory=dict)  # (client, username) → its pause
    clients: dict[str, Throttle] = field(default_factory=dict)  # client → its pause, whatever the username


_BY_NAME = _ByName()


def forget_failures() -> None:
    """Clear every client's pause (tests, and a restarted server, start from none)."""
    with _BY_NAME.lock:
        _BY_NAME.throttles.clear()
        _BY_NAME.clients.clear()


def _tracked(table: dict, key, now: float, limit: int) -> Throttle:
    if len(table) > _MAX_NAMES:  # forget clients that are not paused (the caller holds the lock)
        for stale in [k for k, t in table.items() if not t.wait(now)]:
            del table[stale]
    return table.setdefault(key, Throttle(limit=limit))


def sign_in(accounts: Mapping[str, str], username: str, password: str, session: Throttle,
            now: float | None = None, client: str = "") -> tuple[bool, str]:
    """Check a username and password; returns (signed in, message for the person). `client` names where the
    attempt comes from (analytics.ui gives the connection's address); failures pause that session, that client
    with that username, and (after more) that client with any username — never another client."""
    now = time.monotonic() if now is None else now
    username = username.strip()
    with _BY_NAME.lock:
        throttles = (session, _tracked(_BY_NAME.throttles, (client, username), now, MAX_FAILURES),
                     _tracked(_BY_NAME.clients, client, now, MAX_CLIENT_FAILURES))
    wait = max(t.wait(now) for t in throttles)
    if wait:
        return False, f"Too many failed attempts. Try again in {wait} seconds."
    hashed = accounts.get(username)
    ok = check_password(password, hashed or _DUMMY_HASH) and hashed is not None
    with _BY_NAME.lock:
        for throttle in throttles:
            if ok:
                throttle.succeeded()
            else:
                throttle.failed(now)
    if ok:
        return True, f"Signed in as {username}."
    if any(t.wait(now) for t in throttles):
        return False, f"Too many failed attempts. Try again in {LOCKOUT_SECONDS} seconds."
    return False, "The username or password is not right."


SETUP = """No editor account is set up yet, so nobody can upload. To set one up, on the server:

1. Make a password hash (the password itself is never stored): run `python -m analytics.auth hash`.

2. Put the lines it prints into `.streamlit/secrets.toml` (beside `config.toml`; keep it out of version
   control), for example the line `[editors.accounts]` followed by
   `engagement-lead = "$2b$12$…the hash…"`.

3. Restart the dashboard and sign in here. `.streamlit/secrets.toml.example` shows every setting, including
   signing in through your organisation's identity provider instead."""


def main(argv: list[str] | None = None) -> int:
    """`python -m analytics.auth hash`: ask for a password twice and print the lines for secrets.toml."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["hash"]:
        print("Usage: python -m analytics.auth hash   (asks for a password; prints a bcrypt hash for secrets.toml)",
              file=sys.stderr)
        return 2
    password = getpass.getpass("New editor password: ")
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"Use at least {MIN_PASSWORD_LENGTH} characters (a few words make a good password).", file=sys.stderr)
        return 1
    if getpass.getpass("The same password again: ") != password:
        print("The two passwords differ; nothing was made.", file=sys.stderr)
        return 1
    print("Add these lines to .streamlit/secrets.toml (change the username as you like):\n")
    print(f'[editors.accounts]\nengagement-lead = "{hash_password(password)}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
