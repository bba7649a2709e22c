"""``vendors.toml``: read and validated once; every error names the file, the key and the fix."""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, overload
from urllib.parse import urlsplit

from .dns import DnsResolver

VENDOR_STATUSES = ("candidate", "approved", "terminated")
STEP_ACTIONS = ("fill", "click", "press", "select", "check", "wait", "goto")
TEMPLATE_FIELDS = ("{username}", "{password}", "{totp}")
# Vendor ids and account roles name folders of the results (evidence, screenshots): a slug, never a path.
SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Bounds that keep every duration a number the clock and asyncio can handle.
MAX_PAGE_TIMEOUT_S = 600.0
MAX_VENDOR_TIMEOUT_S = 24 * 3600.0
MAX_AUDIT_EVERY_DAYS = 3660
MAX_EVIDENCE_PART_VISITS = 10_000
MAX_TABS = 8


class ConfigError(Exception):
    """A config problem, worded for the person who has to fix the file."""

    def __init__(self, path: str | Path, key: str, problem: str, fix: str):
        self.path, self.key, self.problem, self.fix = str(path), key, problem, fix
        super().__init__(f"{path}: {key}: {problem}. Fix: {fix}")


@dataclass(frozen=True)
class BrowserConfig:
    host_resolver_rules: str | None = None
    ignore_https_errors: bool = False
    dns_resolver: str | None = None  # HOST:PORT asked for first-party hosts' CNAME chains; None: the system resolver
    # SPKI hashes (base64 sha256) of certificates to trust; unlike ignore_https_errors, covers service workers.
    trusted_spki: tuple[str, ...] = ()
    headless: bool = True
    executable_path: str | None = None
    block_third_party_cookies: bool = False
    page_timeout_s: float = 20.0
    vendor_timeout_s: float = 600.0
    evidence_part_visits: int = 50
    tabs: int = 1


@dataclass(frozen=True)
class LoginStep:
    action: str
    selector: str  # a selector, a URL (goto), or seconds (wait)
    value: str | None = None


@dataclass(frozen=True)
class LoginConfig:
    url: str
    steps: tuple[LoginStep, ...]
    success_url_contains: str | None = None
    success_selector: str | None = None


@dataclass(frozen=True)
class Account:
    role: str
    username: str
    password_env: str
    pii: dict[str, str] = field(default_factory=dict)
    totp_secret_env: str | None = None

    @property
    def id(self) -> str:
        return self.role


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    status: str
    start_url: str
    first_party: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    max_pages: int = 10
    logout_url: str | None = None
    remember_cookies: tuple[str, ...] = ()
    login: LoginConfig | None = None
    accounts: tuple[Account, ...] = ()
    audit_every_days: int = 30
    # Type canary values into the pages' fields (never submitting) to catch key logging; off for a vendor
    # whose fields act on input (a live search that changes data, say).
    form_probe: bool = True


@dataclass(frozen=True)
class Config:
    path: str
    sha256: str
    browser: BrowserConfig
    vendors: tuple[Vendor, ...]

    def vendor(self, vendor_id: str) -> Vendor:
        for vendor in self.vendors:
            if vendor.id == vendor_id:
                return vendor
        known = ", ".join(v.id for v in self.vendors) or "none"
        raise ConfigError(self.path, "vendors", f"no vendor with id {vendor_id!r}", f"use one of: {known}")


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            path, "(file)", f"cannot read the file ({exc.strerror})", "check the path given to --config"
        ) from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "(file)", "the file is not UTF-8 text", "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", f"not valid TOML: {exc}", "correct the TOML syntax at that line") from None
    return parse_config(data, path, hashlib.sha256(raw_bytes).hexdigest())


def parse_config(data: dict[str, Any], path: str | Path, sha256: str = "") -> Config:
    checker = _Checker(str(path))
    checker.only_keys(data, "", {"browser", "vendors"})
    browser = _browser(checker, data.get("browser", {}))
    vendors_raw = data.get("vendors")
    if not isinstance(vendors_raw, list) or not vendors_raw:
        raise ConfigError(
            path,
            "vendors",
            "no [[vendors]] entries",
            "add at least one [[vendors]] table with id, name, status and start_url",
        )
    vendors = tuple(_vendor(checker, raw, f"vendors[{i}]") for i, raw in enumerate(vendors_raw))
    seen: set[str] = set()
    for i, vendor in enumerate(vendors):
        if vendor.id in seen:
            raise ConfigError(
                path, f"vendors[{i}].id", f"duplicate vendor id {vendor.id!r}", "give each vendor a unique id"
            )
        seen.add(vendor.id)
    return Config(str(path), sha256, browser, vendors)


def resolve_secret(env_name: str | None, secrets: dict[str, str] | None = None) -> str | None:
    """A password or TOTP secret from the named environment variable, else from the user's secrets file."""
    if not env_name:
        return None
    return os.environ.get(env_name) or (secrets or {}).get(env_name)


def load_secrets_file(path: str | Path) -> dict[str, str]:
    """A ``NAME=value`` file (blank lines and ``#`` comments allowed), e.g. kept outside the repo with mode 600."""
    secrets: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            path, "(file)", f"cannot read the secrets file ({exc.strerror})", "check the path given to --secrets"
        ) from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ConfigError(path, f"line {number}", "expected NAME=value", "write one NAME=value per line")
        secrets[name.strip()] = value.strip()
    return secrets


class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, problem: str, fix: str) -> NoReturn:
        raise ConfigError(self.path, key, problem, fix)

    def only_keys(self, table: Any, where: str, allowed: set[str]) -> None:
        if not isinstance(table, dict):
            self.fail(where or "(top level)", "expected a table", "write it as a TOML table")
        for key in table:
            if key not in allowed:
                self.fail(_join(where, key), "unknown key", f"remove it or use one of: {', '.join(sorted(allowed))}")

    def get(
        self, table: dict, where: str, key: str, kind: type | tuple, required: bool = False, default: Any = None
    ) -> Any:
        if key not in table:
            if required:
                self.fail(_join(where, key), "missing", f"add {key} = ... to {where or 'the file'}")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if kind is not bool and isinstance(value, bool) or not isinstance(value, kinds):
            names = " or ".join(_type_name(k) for k in kinds)
            self.fail(
                _join(where, key),
                f"expected {names}, got {_type_name(type(value))} {value!r}",
                f"write {key} as {names}",
            )
        return value

    def count(self, table: dict, where: str, key: str, default: int, limit: int, unit: str) -> int:
        """A whole number from 1 to ``limit``."""
        value = self.get(table, where, key, int, default=default)
        if not 1 <= value <= limit:
            self.fail(_join(where, key), f"{value} is out of range", f"give a number of {unit} from 1 to {limit}")
        return value

    def strings(self, table: dict, where: str, key: str) -> tuple[str, ...]:
        values = self.get(table, where, key, list, default=[])
        for i, value in enumerate(values):
            if not isinstance(value, str) or not value:
                self.fail(
                    f"{_join(where, key)}[{i}]", f"expected a non-empty string, got {value!r}", "use quoted strings"
                )
        return tuple(values)

    def slug(self, table: dict, where: str, key: str) -> str:
        value = self.get(table, where, key, str, required=True)
        if not SAFE_SLUG.fullmatch(value):
            self.fail(
                _join(where, key),
                f"{value!r} is not a usable {key} (it names a folder of the results)",
                "use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit",
            )
        return value

    @overload
    def url(self, table: dict, where: str, key: str, required: Literal[True]) -> str: ...
    @overload
    def url(self, table: dict, where: str, key: str, required: bool = False) -> str | None: ...

    def url(self, table: dict, where: str, key: str, required: bool = False) -> str | None:
        value = self.get(table, where, key, str, required=required)
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                self.fail(
                    _join(where, key),
                    f"not an absolute http(s) URL: {value!r}",
                    "write the full URL, e.g. https://app.example.com/",
                )
        return value


def _browser(c: _Checker, raw: Any) -> BrowserConfig:
    where = "browser"
    c.only_keys(
        raw,
        where,
        {
            "host_resolver_rules",
            "ignore_https_errors",
            "trusted_spki",
            "headless",
            "executable_path",
            "block_third_party_cookies",
            "page_timeout_s",
            "vendor_timeout_s",
            "dns_resolver",
            "evidence_part_visits",
            "tabs",
        },
    )
    dns_resolver = c.get(raw, where, "dns_resolver", str)
    if dns_resolver is not None:
        try:
            DnsResolver.parse(dns_resolver)
        except ValueError as exc:
            c.fail(
                "browser.dns_resolver",
                str(exc),
                'give the resolver as IP:PORT, e.g. "127.0.0.1:53", or remove the key to use the system resolver',
            )
    page_timeout = c.get(raw, where, "page_timeout_s", (int, float), default=20.0)
    vendor_timeout = c.get(raw, where, "vendor_timeout_s", (int, float), default=600.0)
    for key, value, limit in (
        ("page_timeout_s", page_timeout, MAX_PAGE_TIMEOUT_S),
        ("vendor_timeout_s", vendor_timeout, MAX_VENDOR_TIMEOUT_S),
    ):
        if not math.isfinite(value) or not 0 < value <= limit:
            c.fail(
                f"browser.{key}",
                f"{value} is out of range",
                f"give a number of seconds above 0 and at most {limit:.0f}",
            )
    part_visits = c.count(raw, where, "evidence_part_visits", 50, MAX_EVIDENCE_PART_VISITS, "visits")
    tabs = c.count(raw, where, "tabs", 1, MAX_TABS, "tabs")
    return BrowserConfig(
        host_resolver_rules=c.get(raw, where, "host_resolver_rules", str),
        ignore_https_errors=c.get(raw, where, "ignore_https_errors", bool, default=False),
        dns_resolver=dns_resolver,
        trusted_spki=c.strings(raw, where, "trusted_spki"),
        headless=c.get(raw, where, "headless", bool, default=True),
        executable_path=c.get(raw, where, "executable_path", str),
        block_third_party_cookies=c.get(raw, where, "block_third_party_cookies", bool, default=False),
        page_timeout_s=float(page_timeout),
        vendor_timeout_s=float(vendor_timeout),
        evidence_part_visits=part_visits,
        tabs=tabs,
    )


def _vendor(c: _Checker, raw: Any, where: str) -> Vendor:
    c.only_keys(
        raw,
        where,
        {
            "id",
            "name",
            "status",
            "start_url",
            "first_party",
            "pages",
            "max_pages",
            "logout_url",
            "remember_cookies",
            "login",
            "accounts",
            "audit_every_days",
            "form_probe",
        },
    )
    vendor_id = c.slug(raw, where, "id")
    status = c.get(raw, where, "status", str, required=True)
    if status not in VENDOR_STATUSES:
        c.fail(f"{where}.status", f"unknown status {status!r}", f"use one of: {', '.join(VENDOR_STATUSES)}")
    start_url = c.url(raw, where, "start_url", required=True)
    pages = c.strings(raw, where, "pages")
    for i, page in enumerate(pages):
        parts = urlsplit(page)
        if not page.startswith("/") and (parts.scheme not in ("http", "https") or not parts.hostname):
            c.fail(
                f"{where}.pages[{i}]",
                f"{page!r} is neither a path nor an absolute URL",
                'write "/lessons" or "https://app.example.com/lessons"',
            )
    max_pages = c.get(raw, where, "max_pages", int, default=10)
    if not 1 <= max_pages <= 1000:
        c.fail(f"{where}.max_pages", f"{max_pages} is out of range", "use a number from 1 to 1000")
    every = c.get(raw, where, "audit_every_days", int, default=30)
    if not 1 <= every <= MAX_AUDIT_EVERY_DAYS:
        c.fail(
            f"{where}.audit_every_days",
            f"{every} is out of range",
            f"use a whole number of days from 1 to {MAX_AUDIT_EVERY_DAYS}",
        )
    login = _login(c, raw["login"], f"{where}.login") if "login" in raw else None
    accounts_raw = c.get(raw, where, "accounts", list, default=[])
    accounts = tuple(_account(c, a, f"{where}.accounts[{i}]") for i, a in enumerate(accounts_raw))
    if login and not accounts:
        c.fail(
            f"{where}.accounts",
            "a login is configured but no account",
            "add a [[vendors.accounts]] table with role, username and password_env",
        )
    roles = [a.role for a in accounts]
    if len(set(roles)) != len(roles):
        c.fail(f"{where}.accounts", "two accounts share a role", "give each account of a vendor its own role")
    return Vendor(
        id=vendor_id,
        name=c.get(raw, where, "name", str, required=True),
        status=status,
        start_url=start_url,
        first_party=c.strings(raw, where, "first_party"),
        pages=pages,
        max_pages=max_pages,
        logout_url=c.url(raw, where, "logout_url"),
        remember_cookies=c.strings(raw, where, "remember_cookies"),
        login=login,
        accounts=accounts,
        audit_every_days=every,
        form_probe=c.get(raw, where, "form_probe", bool, default=True),
    )


def _login(c: _Checker, raw: Any, where: str) -> LoginConfig:
    c.only_keys(raw, where, {"url", "steps", "success"})
    url = c.url(raw, where, "url", required=True)
    steps_raw = c.get(raw, where, "steps", list, required=True)
    if not steps_raw:
        c.fail(f"{where}.steps", "no steps", 'add steps such as {fill = "#email", value = "{username}"}')
    steps = tuple(_step(c, s, f"{where}.steps[{i}]") for i, s in enumerate(steps_raw))
    success = c.get(raw, where, "success", dict, required=True)
    c.only_keys(success, f"{where}.success", {"url_contains", "selector"})
    url_contains = c.get(success, f"{where}.success", "url_contains", str)
    selector = c.get(success, f"{where}.success", "selector", str)
    if not url_contains and not selector:
        c.fail(
            f"{where}.success",
            "no success check",
            'write success = {url_contains = "/dashboard"} or {selector = "#welcome"}',
        )
    return LoginConfig(url, steps, url_contains, selector)


def _step(c: _Checker, raw: Any, where: str) -> LoginStep:
    if not isinstance(raw, dict):
        c.fail(where, f"expected an inline table, got {raw!r}", 'write e.g. {click = "button[type=submit]"}')
    actions = [k for k in raw if k in STEP_ACTIONS]
    if len(actions) != 1:
        c.fail(
            where, f"expected exactly one action, got {sorted(raw) or 'none'}", f"use one of: {', '.join(STEP_ACTIONS)}"
        )
    action = actions[0]
    c.only_keys(raw, where, {action, "value"})
    target = raw[action]
    if action == "wait":
        if not isinstance(target, (int, float, str)) or isinstance(target, bool):
            c.fail(
                f"{where}.wait",
                f"expected seconds or a selector, got {target!r}",
                'write {wait = 2} or {wait = "#ready"}',
            )
        seconds = target if not isinstance(target, str) else _number_or_none(target)
        if seconds is not None and (not math.isfinite(seconds) or not 0 <= seconds <= MAX_PAGE_TIMEOUT_S):
            c.fail(
                f"{where}.wait",
                f"{target!r} seconds is out of range",
                f"wait from 0 to {MAX_PAGE_TIMEOUT_S:.0f} seconds, or for a selector",
            )
        return LoginStep(action, str(target))
    if not isinstance(target, str) or not target:
        c.fail(f"{where}.{action}", f"expected a selector string, got {target!r}", f'write {{{action} = "#selector"}}')
    if action == "goto":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            c.fail(
                f"{where}.goto", f"not an absolute http(s) URL: {target!r}", 'write "https://app.example.com/signin"'
            )
    value = raw.get("value")
    if action in ("fill", "press", "select") and not isinstance(value, str):
        c.fail(
            f"{where}.value",
            f"{action} needs a string value",
            f'add value = "..." (templates: {", ".join(TEMPLATE_FIELDS)})',
        )
    if action in ("click", "check") and value is not None:
        c.fail(f"{where}.value", f"{action} takes no value", "remove value")
    unknown = [t for t in re.findall(r"\{[a-z_]+\}", value or "") if t not in TEMPLATE_FIELDS]
    if unknown:
        c.fail(
            f"{where}.value",
            f"unknown template {unknown[0]!r}",
            f"use one of {', '.join(TEMPLATE_FIELDS)} or plain text",
        )
    return LoginStep(action, target, value)


def _account(c: _Checker, raw: Any, where: str) -> Account:
    if isinstance(raw, dict) and "password" in raw:
        c.fail(
            f"{where}.password",
            "passwords are never written in the config",
            "store it in an environment variable and name it in password_env",
        )
    c.only_keys(raw, where, {"role", "username", "password_env", "pii", "totp_secret_env"})
    password_env = c.get(raw, where, "password_env", str, required=True)
    if not password_env.replace("_", "").isalnum():
        c.fail(
            f"{where}.password_env",
            f"{password_env!r} is not an environment variable name",
            "use a name like VENDOR_STUDENT_PASSWORD",
        )
    pii = c.get(raw, where, "pii", dict, default={})
    for key, value in pii.items():
        if not isinstance(value, str) or not value:
            c.fail(
                f"{where}.pii.{key}",
                f"expected a non-empty string, got {value!r}",
                'quote the value, e.g. birth_date = "2013-04-09"',
            )
    return Account(
        role=c.slug(raw, where, "role"),
        username=c.get(raw, where, "username", str, required=True),
        password_env=password_env,
        pii=dict(pii),
        totp_secret_env=c.get(raw, where, "totp_secret_env", str),
    )


def _number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type_name(kind: type) -> str:
    return {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }.get(kind, kind.__name__)
