"""The commands that talk to a carrier, and the ones run by other packages.

``token`` works for any carrier of the registry: what it accepts (a sandbox key
store, a tenant) is read from the carrier's entry and its facade, not from a list
of names. ``mock`` and ``contract`` import their package only when they run.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import inspect
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from .. import _config, registry
from .._base import Carrier
from ..errors import CarrierError
from ..extras import EXTRAS
from ..keystore import KeyStore
from ..novapost import NovaPost
from ..options import OptionArgs
from ..redaction import register_secret
from .common import (
    EXIT_API,
    EXIT_OK,
    PROG,
    UsageError,
    duration,
    read_limited,
    say,
    utc,
)
from .parser import DELEGATES, SECRET_OPTIONS, unrecognized
from .progress import progress

__all__ = ["cmd_contract", "cmd_mock", "cmd_sandbox_key", "cmd_token", "run_delegate"]


# --- the API key ---------------------------------------------------------------------------


def read_key_file(path: str) -> str:
    """The key in ``path`` (``-``: stdin), stripped; a usage error if unreadable, empty or long.

    The read is bounded: ``--api-key-file /dev/zero`` is an error, not a hang.
    """
    what = f"the API key file {path}"
    try:
        if path == "-":
            text = read_limited(sys.stdin, what)
        else:
            with open(path, encoding="utf-8") as handle:
                text = read_limited(handle, what)
    except OSError as exc:
        raise UsageError(f"cannot read the API key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the API key file {path} is not UTF-8 text") from None
    key = text.strip()
    if not key:
        raise UsageError(f"the API key file {path} is empty")
    return key


def api_key(args: argparse.Namespace, info: registry.CarrierInfo) -> str | None:
    """The key from --api-key-file, --prompt or the environment; None if there is none."""
    if args.api_key_file is not None:
        return read_key_file(args.api_key_file)
    if args.prompt:
        key = getpass.getpass(f"{info.title} API key: ").strip()
        if not key:
            raise UsageError("no API key entered")
        return key
    value = os.environ.get(info.api_key_env)
    if value is not None and not value.strip():
        raise UsageError(f"{info.api_key_env} is set but empty")
    return value.strip() if value is not None else None


# --- token ---------------------------------------------------------------------------------


def _accepts(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` takes a keyword argument called ``name``."""
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):  # no signature to read
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def _check_token_args(args: argparse.Namespace, info: registry.CarrierInfo, facade: Any) -> None:
    """Refuse options the carrier has no use for, naming it."""
    has_sandbox = info.sandbox_phone_env is not None
    if not has_sandbox and (args.phone is not None or args.key_store is not None):
        raise UsageError(
            f"--phone and --key-store are for a sandbox key store: {info.title} has none"
        )
    if args.key_store is not None and args.phone is None:
        raise UsageError("--key-store goes with --phone")
    if args.tenant_id is not None:
        if not _accepts(facade.__init__, "tenant_id"):
            raise UsageError(f"--tenant-id: {info.title} has no tenants")
        if args.phone is not None and not _accepts(facade.sandbox, "tenant_id"):
            raise UsageError(f"--tenant-id does not go with --phone for {info.title}")
    if args.phone is not None and args.environment not in (None, info.test_environment):
        raise UsageError("--phone uses the sandbox key store: drop --environment")


def _client(args: argparse.Namespace, info: registry.CarrierInfo) -> Carrier[Any]:
    """The facade for ``args``, checked before any network call except a sandbox key's."""
    facade: Any = info.facade_class()
    _check_token_args(args, info, facade)
    options: OptionArgs = {"timeout": args.timeout, "max_retries": args.max_retries}
    tenant = {} if args.tenant_id is None else {"tenant_id": args.tenant_id}
    client: Carrier[Any]
    if args.phone is not None:
        with progress("getting the sandbox API key", enabled=args.progress):
            client = facade.sandbox(
                args.phone,
                key_store=KeyStore(args.key_store),
                base_url=args.base_url,
                **tenant,
                **options,
            )
        return client
    key = api_key(args, info)
    if key is None:
        phone = ", or --phone PHONE for the sandbox key store" if info.sandbox_phone_env else ""
        raise UsageError(
            f"no {info.title} API key: set {info.api_key_env}, "
            f"use --api-key-file FILE or --prompt{phone}"
        )
    register_secret(key)
    client = facade(
        key,
        environment=args.environment or info.default_environment,
        base_url=args.base_url,
        **tenant,
        **options,
    )
    return client


def cmd_token(args: argparse.Namespace) -> int:
    """Mint a JWT and print it alone on stdout."""
    info = registry.get(args.carrier)
    client = _client(args, info)
    with client, progress(f"minting a {info.title} token", enabled=args.progress):
        token: str = client.jwt()
    # Printable as it is: the auth flow refuses a token no header could carry.
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    return EXIT_OK


# --- sandbox-key ---------------------------------------------------------------------------


def cmd_sandbox_key(args: argparse.Namespace) -> int:
    """Create or reuse the Nova Post sandbox key for a phone; print where it is."""
    phone = _config.check_phone(args.phone)
    store = KeyStore(args.key_store)
    _, url = NovaPost.resolve_url("sandbox", args.base_url)
    existing = store.get(phone, url)
    with progress("creating a sandbox API key", enabled=args.progress and existing is None):
        client = NovaPost.sandbox(
            phone,
            key_store=store,
            base_url=args.base_url,
            timeout=args.timeout,
            max_retries=args.max_retries,
        )
    client.close()
    stored = store.get(phone, url)
    if stored is None:  # the server gave a key that is already (nearly) expired
        raise CarrierError("the server returned a sandbox key that has already expired")
    left = stored.exp_date.timestamp() - time.time()
    say(f"status:     {'reused' if existing is not None else 'created'}")
    say(f"phone:      {phone}")
    say(f"server:     {url}")
    say(f"expires:    {utc(stored.exp_date.timestamp())} (in {duration(left)})")
    say(f"stored in:  {store.path}")
    if args.show:
        say(f"key:        {stored.api_key}")
    return EXIT_OK


# --- mock and contract ---------------------------------------------------------------------


def _exit_status(code: object) -> int:
    """The exit status of a ``SystemExit`` code, as the interpreter would make it."""
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return EXIT_API


def _is_missing_extra(exc: ImportError, module: str, extra: str) -> bool:
    """Whether ``exc`` is the delegate's package, or a module of its extra, not installed."""
    top = (exc.name or "").partition(".")[0]
    return top in (module.partition(".")[0], *EXTRAS[extra])


def run_delegate(command: str, rest: Sequence[str]) -> int:
    """Run ``carriers COMMAND REST...`` as ``main(REST, prog="carriers COMMAND")`` of its module.

    Its own parser handles every argument (``--help`` too) and reports its own
    errors; a missing extra is one line naming what to install.
    """
    delegate = DELEGATES[command]
    install = f"pip install 'carriers[{delegate.extra}]'"
    if any(item.split("=", 1)[0] in SECRET_OPTIONS for item in rest):
        # refused here: the module's own error would repeat the value
        raise UsageError(unrecognized(rest))
    try:
        module = importlib.import_module(delegate.module)
        main: Callable[..., int] = module.main
        return main(list(rest), prog=f"{PROG} {command}")
    except SystemExit as exc:  # its argparse: --help, or a bad option already reported
        return _exit_status(exc.code)
    except ImportError as exc:
        if not _is_missing_extra(exc, delegate.module, delegate.extra):
            raise
        raise UsageError(f"{delegate.what} cannot run, {exc.name} is missing: {install}") from None


def cmd_mock(args: argparse.Namespace) -> int:
    """Serve the mock servers: ``carrier_mocks.cli.main``."""
    return run_delegate("mock", args.rest)


def cmd_contract(args: argparse.Namespace) -> int:
    """Run the contract suite: ``carriers_contract.cli.main``."""
    return run_delegate("contract", args.rest)
