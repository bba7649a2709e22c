"""Third-party storage partitioned as in a student's Chrome.

Playwright launches Chromium with ``--disable-features=…,ThirdPartyStoragePartitioning,…``, which shares a
third-party frame's storage across every site that embeds it. A second ``--disable-features`` would replace
Playwright's whole list (its other entries stop background requests to Google), so the launch drops
Playwright's exact argument and passes the same list without ``ThirdPartyStoragePartitioning``
(/work/shared/chromium-notes.md, last section).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

PARTITIONING = "ThirdPartyStoragePartitioning"
# Playwright 1.65's list, used when its bundle cannot be read.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    PARTITIONING,
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
_LIST = re.compile(r"disabledFeatures\s*=\s*\[(.*?)\]\s*\.filter\(Boolean\)", re.DOTALL)


@lru_cache(maxsize=1)
def playwright_disabled_features() -> tuple[str, ...]:
    """The features Playwright disables, read from the installed driver (its list changes between versions)."""
    try:
        import playwright

        package = Path(playwright.__file__).parent / "driver" / "package" / "lib"
        for source in (package / "coreBundle.js", package / "server" / "chromium" / "chromiumSwitches.js"):
            if source.is_file():
                found = _LIST.search(source.read_text(encoding="utf-8", errors="replace"))
                if found:
                    body = re.sub(r"//[^\n]*", "", found.group(1))
                    names = tuple(re.findall(r'"([^"]+)"', body))
                    if PARTITIONING in names:
                        return names
    except (ImportError, OSError):
        pass
    return PLAYWRIGHT_DISABLED_FEATURES


def partitioning_launch_options() -> tuple[list[str], list[str]]:
    """(ignore_default_args, extra args) that keep Playwright's disabled features but partition storage."""
    features = playwright_disabled_features()
    kept = [name for name in features if name != PARTITIONING]
    return [f"--disable-features={','.join(features)}"], [f"--disable-features={','.join(kept)}"]
