"""What the Acme tests share: where its sources are, its key, a process environment."""

from __future__ import annotations

import os
from pathlib import Path

ACME_SOURCES = Path(__file__).resolve().parent / "acme"
DIST_INFO = "acme_carrier-0.1.dist-info"
KEY = "acme_test_0123456789"
"""The docs' key, the only one the Acme mock accepts (``acme_carrier.DOCS_API_KEY``)."""


def site_environment(site: Path) -> dict[str, str]:
    """This process's environment, plus ``site`` on ``PYTHONPATH``.

    Variables that would point a contract run at other servers, or change its
    budget, are dropped.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith("_URL") and name not in ("TARGET", "MAX_EXAMPLES", "SEED")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env
