"""The sandbox key store, and NovaPost.sandbox() creating a key only when none is stored."""

from __future__ import annotations

import datetime
import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from carriers import CarrierError, ConfigurationError, KeyStore, NovaPost, RateLimitError
from carriers import keystore as keystore_module
from carriers.keystore import KeyStoreError

from .conftest import NP_BASE, Sleeper, TokenIssuer

UTC = datetime.UTC
NOW = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "498213437654"


class Now:
    def __init__(self, value: datetime.datetime = NOW) -> None:
        self.value = value

    def __call__(self) -> datetime.datetime:
        return self.value


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "carriers" / "keys.json"


@pytest.fixture
def store(store_path: Path) -> KeyStore:
    return KeyStore(store_path, clock=Now())


# --- the file ----------------------------------------------------------------------


def test_put_creates_a_0600_file_in_a_0700_directory(store: KeyStore, store_path: Path) -> None:
    store.put(PHONE, NP_BASE, "secret-sandbox-key", NOW + datetime.timedelta(days=365))
    assert mode(store_path) == 0o600
    assert mode(store_path.parent) == 0o700
    assert sorted(p.name for p in store_path.parent.iterdir()) == ["keys.json", "keys.json.lock"]
    assert mode(store_path.with_name("keys.json.lock")) == 0o600
    data = json.loads(store_path.read_text())
    assert data["keys"][NP_BASE][PHONE]["apiKey"] == "secret-sandbox-key"


def test_a_file_made_readable_by_others_is_restricted_again(
    store: KeyStore, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store.put(PHONE, NP_BASE, "k1", NOW + datetime.timedelta(days=1))
    os.chmod(store_path, 0o644)
    with caplog.at_level(logging.WARNING, logger="carriers"):
        assert store.get(PHONE, NP_BASE) is not None
    assert mode(store_path) == 0o600
    assert "readable by others" in caplog.text


def test_rewrites_keep_0600_even_with_a_permissive_umask(store: KeyStore, store_path: Path) -> None:
    old = os.umask(0)
    try:
        store.put(PHONE, NP_BASE, "k1", NOW + datetime.timedelta(days=1))
        store.put("49123456789", NP_BASE, "k2", NOW + datetime.timedelta(days=1))
    finally:
        os.umask(old)
    assert mode(store_path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    store: KeyStore, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(PHONE, NP_BASE, "old-key", NOW + datetime.timedelta(days=1))
    before = store_path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(keystore_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(PHONE, NP_BASE, "new-key", NOW + datetime.timedelta(days=1))
    assert store_path.read_bytes() == before
    assert sorted(p.name for p in store_path.parent.iterdir()) == ["keys.json", "keys.json.lock"]


@pytest.mark.parametrize("content", ["{not json", "[]", '{"keys": 3}', ""])
def test_an_unreadable_store_is_treated_as_empty_and_replaced(
    store: KeyStore, store_path: Path, content: str
) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_text(content)
    os.chmod(store_path, 0o600)
    assert store.get(PHONE, NP_BASE) is None
    store.put(PHONE, NP_BASE, "k", NOW + datetime.timedelta(days=1))
    stored = store.get(PHONE, NP_BASE)
    assert stored is not None
    assert stored.api_key == "k"


# --- reuse and expiry --------------------------------------------------------------------


def test_a_stored_key_is_reused_until_shortly_before_its_expiry(store_path: Path) -> None:
    now = Now()
    store = KeyStore(store_path, clock=now, margin=datetime.timedelta(minutes=10))
    store.put(PHONE, NP_BASE + "/", "k", NOW + datetime.timedelta(hours=1))
    stored = store.get(PHONE, NP_BASE)
    assert stored is not None
    assert (stored.api_key, stored.base_url) == ("k", NP_BASE)
    now.value = NOW + datetime.timedelta(minutes=49, seconds=59)
    assert store.get(PHONE, NP_BASE) is not None
    now.value = NOW + datetime.timedelta(minutes=50)
    assert store.get(PHONE, NP_BASE) is None


def test_keys_are_kept_per_phone_and_server(store: KeyStore) -> None:
    later = NOW + datetime.timedelta(days=30)
    store.put(PHONE, NP_BASE, "a", later)
    store.put("49123456789", NP_BASE, "b", later)
    store.put(PHONE, "http://127.0.0.1:8010/v.1.0", "c", later)
    found = [
        store.get(p, u)
        for p, u in [
            (PHONE, NP_BASE),
            ("49123456789", NP_BASE),
            (PHONE, "http://127.0.0.1:8010/v.1.0"),
        ]
    ]
    assert [s.api_key if s else None for s in found] == ["a", "b", "c"]
    assert store.get("49000000000", NP_BASE) is None
    assert store.delete(PHONE, NP_BASE) is True
    assert store.delete(PHONE, NP_BASE) is False
    assert store.get(PHONE, NP_BASE) is None
    assert store.get("49123456789", NP_BASE) is not None


def test_a_naive_exp_date_is_read_as_utc(store: KeyStore) -> None:
    stored = store.put(PHONE, NP_BASE, "k", datetime.datetime(2027, 3, 2, 12, 0))
    assert stored.exp_date.tzinfo is not None
    assert store.get(PHONE, NP_BASE) is not None


def test_the_path_comes_from_the_argument_then_the_environment_then_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CARRIERS_KEY_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = KeyStore().path
    assert default.parts[-2:] == ("carriers", "novapost-sandbox-keys.json")
    monkeypatch.setenv("CARRIERS_KEY_STORE", str(tmp_path / "env.json"))
    assert KeyStore().path == tmp_path / "env.json"
    assert KeyStore(tmp_path / "arg.json").path == tmp_path / "arg.json"


def test_reprs_leave_the_key_out(store: KeyStore) -> None:
    stored = store.put(PHONE, NP_BASE, "very-secret-sandbox-key", NOW + datetime.timedelta(days=1))
    assert "very-secret-sandbox-key" not in repr(stored)
    assert "very-secret-sandbox-key" not in repr(store)


# --- NovaPost.sandbox() ---------------------------------------------------------------------


def created_key(api_key: str, days: int = 365) -> dict[str, Any]:
    now = datetime.datetime.now(UTC)
    return {
        "apiKey": api_key,
        "createdAt": now.isoformat(),
        "expDate": (now + datetime.timedelta(days=days)).isoformat(),
        "status": "Active",
    }


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Options of the sandbox calls (the fake clock and sleeps come from ``fake_hooks``)."""
    return {"max_retries": 2}


def test_sandbox_creates_a_key_once_then_reuses_it(
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    np_key: str,
    store_path: Path,
    sandbox_options: dict[str, Any],
) -> None:
    create = np_api.post("/test-api-keys").respond(200, json=created_key(np_key))
    with NovaPost.sandbox(PHONE, key_store=store_path, **sandbox_options) as first:
        assert first.environment == "sandbox"
        token = first.jwt()  # minted with the created key (the issuer checks it)
    assert create.call_count == 1
    assert json.loads(create.calls.last.request.content) == {"phone": PHONE}
    assert mode(store_path) == 0o600
    with NovaPost.sandbox(PHONE, key_store=store_path, **sandbox_options) as second:
        assert second.jwt() != token  # a new client has its own token ...
    assert create.call_count == 1  # ... but the key was reused
    assert np_tokens.count == 2


async def test_asandbox_creates_then_reuses(
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    np_key: str,
    store_path: Path,
    sandbox_options: dict[str, Any],
) -> None:
    create = np_api.post("/test-api-keys").respond(200, json=created_key(np_key))
    async with await NovaPost.asandbox(PHONE, key_store=store_path, **sandbox_options) as np:
        await np.ajwt()
    async with await NovaPost.asandbox(PHONE, key_store=store_path, **sandbox_options) as np:
        await np.ajwt()
    assert create.call_count == 1
    assert np_tokens.count == 2


def test_sandbox_replaces_an_expired_stored_key(
    np_api: respx.MockRouter, np_key: str, store_path: Path, sandbox_options: dict[str, Any]
) -> None:
    KeyStore(store_path).put(
        PHONE, NP_BASE, "expired-key", datetime.datetime.now(UTC) - datetime.timedelta(days=1)
    )
    create = np_api.post("/test-api-keys").respond(200, json=created_key(np_key))
    NovaPost.sandbox(PHONE, key_store=store_path, **sandbox_options).close()
    assert create.call_count == 1
    stored = KeyStore(store_path).get(PHONE, NP_BASE)
    assert stored is not None
    assert stored.api_key == np_key


def test_sandbox_stores_keys_per_base_url(
    np_key: str, store_path: Path, sandbox_options: dict[str, Any]
) -> None:
    local = "http://127.0.0.1:8010/v.1.0"
    with respx.mock(base_url=local) as router:
        create = router.post("/test-api-keys").respond(200, json=created_key(np_key))
        np = NovaPost.sandbox(
            PHONE, key_store=KeyStore(store_path), base_url=local + "/", **sandbox_options
        )
        assert np.base_url == local
        np.close()
    assert create.call_count == 1
    assert KeyStore(store_path).get(PHONE, local) is not None
    assert KeyStore(store_path).get(PHONE, NP_BASE) is None


@pytest.mark.parametrize("phone", ["+380501234567", "380501234567", "+49 821 343 7654", "4982134"])
def test_sandbox_checks_the_phone_before_any_request_or_file(
    np_api: respx.MockRouter, store_path: Path, phone: str
) -> None:
    create = np_api.post("/test-api-keys").respond(200, json=created_key("k"))
    with pytest.raises(ConfigurationError, match="49XXXXXXXXX"):
        NovaPost.sandbox(phone, key_store=store_path)
    assert create.call_count == 0
    assert not store_path.exists()


def test_sandbox_daily_limit_is_raised_once_and_nothing_is_stored(
    np_api: respx.MockRouter, store_path: Path, sandbox_options: dict[str, Any], sleeper: Sleeper
) -> None:
    create = np_api.post("/test-api-keys").respond(
        429, json={"success": False, "errors": ["Daily limit reached"]}
    )
    with pytest.raises(RateLimitError, match="Daily limit reached"):
        NovaPost.sandbox(PHONE, key_store=store_path, max_retries=5)
    assert create.call_count == 1
    assert sleeper.delays == []
    assert not store_path.exists()


def test_sandbox_rejects_unknown_options_before_any_request(
    np_api: respx.MockRouter, store_path: Path
) -> None:
    create = np_api.post("/test-api-keys").respond(200, json=created_key("k"))
    with pytest.raises(TypeError, match="environment"):
        NovaPost.sandbox(PHONE, key_store=store_path, environment="production")
    assert create.call_count == 0


def test_sandbox_with_a_bad_response_is_a_validation_error(
    np_api: respx.MockRouter, store_path: Path, sandbox_options: dict[str, Any]
) -> None:
    from carriers import ResponseValidationError

    np_api.post("/test-api-keys").mock(
        return_value=httpx.Response(200, json={"apiKey": "k", "status": "Active"})
    )
    with pytest.raises(ResponseValidationError, match="missing required field 'createdAt'"):
        NovaPost.sandbox(PHONE, key_store=store_path, **sandbox_options)
    assert not store_path.exists()


def test_keystore_tests_use_a_fake_clock_for_sandbox_too(
    np_api: respx.MockRouter,
    np_key: str,
    store_path: Path,
    sandbox_options: dict[str, Any],
) -> None:
    """A KeyStore instance with its own clock decides reuse, not the wall clock."""
    create = np_api.post("/test-api-keys").respond(200, json=created_key(np_key, days=1))
    now = Now(datetime.datetime.now(UTC))
    store = KeyStore(store_path, clock=now)
    NovaPost.sandbox(PHONE, key_store=store, **sandbox_options).close()
    NovaPost.sandbox(PHONE, key_store=store, **sandbox_options).close()
    assert create.call_count == 1
    now.value += datetime.timedelta(days=2)
    NovaPost.sandbox(PHONE, key_store=store, **sandbox_options).close()
    assert create.call_count == 2


# --- hardening: dates beyond UTC ------------------------------------------------------------

LAST_INSTANT = datetime.datetime.max.replace(tzinfo=UTC)
BEHIND = datetime.timezone(datetime.timedelta(hours=-14))
AHEAD = datetime.timezone(datetime.timedelta(hours=14))


def test_an_exp_date_past_the_last_utc_instant_is_far_future(store: KeyStore) -> None:
    stored = store.put(PHONE, NP_BASE, "k", datetime.datetime(9999, 12, 31, 23, 0, tzinfo=BEHIND))
    assert stored.exp_date == LAST_INSTANT
    found = store.get(PHONE, NP_BASE)
    assert found is not None
    assert found.exp_date == LAST_INSTANT
    first = store.put(PHONE, NP_BASE, "k", datetime.datetime(1, 1, 1, tzinfo=AHEAD))
    assert first.exp_date == datetime.datetime.min.replace(tzinfo=UTC)
    assert store.get(PHONE, NP_BASE) is None


def write_store(path: Path, keys: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "keys": keys}))
    os.chmod(path, 0o600)


@pytest.mark.parametrize(
    ("exp_date", "reused"),
    [("9999-12-31T23:59:59-14:00", True), ("0001-01-01T00:00:00+14:00", False)],
)
def test_stored_exp_dates_beyond_utc_are_clamped_not_a_crash(
    store: KeyStore, store_path: Path, exp_date: str, reused: bool
) -> None:
    write_store(store_path, {NP_BASE: {PHONE: {"apiKey": "k", "expDate": exp_date}}})
    assert (store.get(PHONE, NP_BASE) is not None) is reused


def test_sandbox_stores_a_server_exp_date_past_the_last_utc_instant(
    np_api: respx.MockRouter, np_key: str, store_path: Path, sandbox_options: dict[str, Any]
) -> None:
    body = created_key(np_key) | {"expDate": "9999-12-31T23:59:59-14:00"}
    np_api.post("/test-api-keys").respond(200, json=body)
    NovaPost.sandbox(PHONE, key_store=store_path, **sandbox_options).close()
    stored = KeyStore(store_path).get(PHONE, NP_BASE)
    assert stored is not None
    assert (stored.api_key, stored.exp_date) == (np_key, LAST_INSTANT)


# --- hardening: an unusable store is refused before the key is created -----------------------


@pytest.fixture
def create(np_api: respx.MockRouter) -> respx.Route:
    return np_api.post("/test-api-keys").respond(200, json=created_key("created-key"))


def test_sandbox_refuses_a_directory_as_the_store_before_any_request(
    create: respx.Route, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "store-dir"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    monkeypatch.setenv("CARRIERS_KEY_STORE", str(directory))
    with pytest.raises(ConfigurationError, match=f"{directory}.* is a directory"):
        NovaPost.sandbox(PHONE)
    assert create.call_count == 0
    assert mode(directory) == 0o755
    assert list(directory.iterdir()) == []


async def test_asandbox_refuses_a_directory_as_the_store_before_any_request(
    create: respx.Route, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="is a directory"):
        await NovaPost.asandbox(PHONE, key_store=tmp_path)
    assert create.call_count == 0


def test_the_store_never_chmods_or_locks_a_directory(tmp_path: Path) -> None:
    directory = tmp_path / "store-dir"
    directory.mkdir()
    os.chmod(directory, 0o755)
    store = KeyStore(directory)
    with pytest.raises(KeyStoreError, match="is a directory"):
        store.get(PHONE, NP_BASE)
    with pytest.raises(KeyStoreError, match="is a directory"):
        store.put(PHONE, NP_BASE, "k", NOW)
    assert mode(directory) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store-dir"]


def test_sandbox_refuses_a_read_only_directory_before_any_request(
    create: respx.Route, tmp_path: Path
) -> None:
    directory = tmp_path / "read-only"
    directory.mkdir()
    os.chmod(directory, 0o500)
    try:
        if os.access(directory, os.W_OK):
            pytest.skip("running as root: a 0500 directory is still writable, nothing to refuse")
        with pytest.raises(ConfigurationError, match=f"{directory} is not writable"):
            NovaPost.sandbox(PHONE, key_store=directory / "sub" / "keys.json")
    finally:
        os.chmod(directory, 0o700)
    assert create.call_count == 0


@pytest.mark.parametrize(
    ("unwritable", "message"),
    [
        ("directory", "cannot be written: directory .* is not writable"),
        ("store", "is not readable and writable"),
        ("lock", "cannot be locked: .*keys.json.lock is not writable"),
    ],
)
def test_sandbox_refuses_an_unwritable_store_before_any_request(
    create: respx.Route,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    unwritable: str,
    message: str,
) -> None:
    """The same check with ``os.access`` saying no, as on a read-only file system."""
    lock = store_path.with_name("keys.json.lock")
    if unwritable != "directory":
        write_store(store_path, {})
        lock.touch()
    denied = {"directory": store_path.parents[2], "store": store_path, "lock": lock}[unwritable]
    real_access = os.access

    def access(path: Any, how: int) -> bool:
        return False if how & os.W_OK and Path(path) == denied else real_access(path, how)

    monkeypatch.setattr(keystore_module.os, "access", access)
    with pytest.raises(ConfigurationError, match=f"{store_path} {message}"):
        NovaPost.sandbox(PHONE, key_store=store_path)
    assert create.call_count == 0


def test_sandbox_refuses_a_store_under_a_file(create: respx.Route, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    with pytest.raises(ConfigurationError, match="is not a directory"):
        NovaPost.sandbox(PHONE, key_store=tmp_path / "plain" / "keys.json")
    assert create.call_count == 0


def test_the_usability_check_creates_nothing(store: KeyStore, store_path: Path) -> None:
    store.check_usable()
    assert not store_path.parent.exists()


# --- hardening: odd store contents -----------------------------------------------------------


@pytest.mark.parametrize("server", [[], "x", 3, None])
def test_a_server_entry_that_is_not_an_object_is_a_typed_error(
    store: KeyStore, store_path: Path, server: object, create: respx.Route
) -> None:
    write_store(store_path, {NP_BASE: server})
    with pytest.raises(KeyStoreError, match=str(store_path)) as caught:
        store.get(PHONE, NP_BASE)
    assert isinstance(caught.value, CarrierError)
    with pytest.raises(KeyStoreError):
        store.put(PHONE, NP_BASE, "k", NOW + datetime.timedelta(days=1))
    with pytest.raises(ConfigurationError):
        NovaPost.sandbox(PHONE, key_store=store_path)
    assert create.call_count == 0


def test_a_symlinked_store_is_written_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real" / "keys.json"
    write_store(target, {"http://other/v.1.0": {PHONE: {"apiKey": "o", "expDate": "2100-01-01"}}})
    link = tmp_path / "links" / "keys.json"
    link.parent.mkdir()
    link.symlink_to(target)
    store = KeyStore(link, clock=Now())
    store.put(PHONE, NP_BASE, "k", NOW + datetime.timedelta(days=1))
    assert link.is_symlink()
    assert mode(target) == 0o600
    assert set(json.loads(target.read_text())["keys"]) == {"http://other/v.1.0", NP_BASE}
    assert sorted(p.name for p in target.parent.iterdir()) == ["keys.json", "keys.json.lock"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["keys.json"]
    assert store.delete(PHONE, NP_BASE) is True
    assert link.is_symlink()


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "keys.json"
    link.symlink_to(tmp_path / "elsewhere" / "keys.json")
    KeyStore(link, clock=Now()).put(PHONE, NP_BASE, "k", NOW + datetime.timedelta(days=1))
    assert link.is_symlink()
    assert mode(tmp_path / "elsewhere" / "keys.json") == 0o600


def test_a_corrupt_store_is_kept_aside_with_one_warning(
    store: KeyStore, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_text('{"keys": {"http://other/v.1.0": {"4912": {"apiKey": "corrupt-secret"')
    os.chmod(store_path, 0o600)
    corrupt = store_path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="carriers"):
        assert store.get(PHONE, NP_BASE) is None
    [backup] = store_path.parent.glob("keys.json.corrupt-*")
    assert backup.read_bytes() == corrupt
    assert len(caplog.records) == 1
    assert str(backup) in caplog.text
    assert "corrupt-secret" not in caplog.text
    caplog.clear()
    store.put(PHONE, NP_BASE, "new", NOW + datetime.timedelta(days=1))
    assert store.get(PHONE, NP_BASE) is not None
    assert caplog.records == []
    assert backup.read_bytes() == corrupt


@pytest.mark.parametrize(
    "api_key", ["has space", "trailing-newline\n", "", " ", "tab\tkey", "\x00"]
)
def test_a_key_that_would_be_refused_later_is_not_stored(
    store: KeyStore, store_path: Path, api_key: str
) -> None:
    with pytest.raises(KeyStoreError) as caught:
        store.put(PHONE, NP_BASE, api_key, NOW + datetime.timedelta(days=1))
    assert not store_path.exists()
    if api_key.strip():
        assert api_key not in str(caught.value)


def test_an_invalid_stored_key_is_skipped_with_a_warning_and_replaced(
    np_api: respx.MockRouter,
    np_key: str,
    store_path: Path,
    sandbox_options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "stored-secret with-a-space"
    write_store(store_path, {NP_BASE: {PHONE: {"apiKey": secret, "expDate": "2100-01-01"}}})
    create = np_api.post("/test-api-keys").respond(200, json=created_key(np_key))
    with caplog.at_level(logging.DEBUG, logger="carriers"):
        NovaPost.sandbox(PHONE, key_store=store_path, **sandbox_options).close()
    assert create.call_count == 1
    assert "invalid sandbox key entry" in caplog.text
    assert "stored-secret" not in caplog.text
    stored = KeyStore(store_path).get(PHONE, NP_BASE)
    assert stored is not None
    assert stored.api_key == np_key


@pytest.mark.parametrize(
    "entry",
    [
        [],
        {"apiKey": 3, "expDate": "2100-01-01"},
        {"apiKey": "k"},
        {"apiKey": "k", "expDate": "soon"},
    ],
)
def test_other_invalid_entries_are_skipped(
    store: KeyStore, store_path: Path, entry: object
) -> None:
    write_store(
        store_path, {NP_BASE: {PHONE: entry, "4912": {"apiKey": "k", "expDate": "2100-01-01"}}}
    )
    assert store.get(PHONE, NP_BASE) is None
    assert store.get("4912", NP_BASE) is not None


def test_the_lock_file_sits_next_to_the_store_and_threads_share_it(
    store: KeyStore, store_path: Path
) -> None:
    def writer(who: int) -> None:
        other = KeyStore(store_path, clock=Now())
        for n in range(20):
            other.put(f"49{who}{n:09d}", NP_BASE, f"k{who}-{n}", NOW + datetime.timedelta(days=1))

    threads = [threading.Thread(target=writer, args=(who,)) for who in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(json.loads(store_path.read_text())["keys"][NP_BASE]) == 60
    assert mode(store_path.with_name("keys.json.lock")) == 0o600
