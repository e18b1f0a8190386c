"""Installation settings: file limits, the login cookie, webhooks and the store's time zone.

Each setting is declared once here, as data, with its default, the environment variable that
overrides it and a line for the README (a test checks that the README lists them all). They
are set by whoever runs the installation — not in a page — because they decide what an
outsider may send the app and where the app may send data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | str
    about: str

    @property
    def env(self) -> str:
        return "SCORECARD_" + self.name.upper()


SETTINGS = {s.name: s for s in [
    Setting("max_cell_chars", 1_000_000, "longest cell an upload may hold (characters)"),
    Setting("max_columns", 16_384, "most columns an upload may have (Excel's own limit)"),
    Setting("max_rows", 1_048_576, "most rows a workbook sheet may declare (Excel's own limit)"),
    Setting("max_cells", 10_000_000, "most cells a workbook's sheets may span, rows × columns "
            "from the first to the last used cell"),
    Setting("max_xlsx_unpacked_mb", 2_000, "largest total a workbook may unpack to (MB)"),
    Setting("max_xlsx_ratio", 200, "highest compression ratio of a workbook part over 10 MB"),
    Setting("cookie_days", 7, "how long a login cookie lasts (days)"),
    Setting("webhook_allow_hosts", "", "hosts on a private or loopback address that webhooks "
            "may still reach, comma-separated (none by default)"),
    Setting("webhook_timeout_s", 4, "seconds a webhook may take to answer"),
    Setting("upload_wait_s", 2, "seconds the upload page waits for a read or a store before it "
            "shows its progress and stays usable meanwhile"),
    Setting("timezone", "", "the store's time zone, e.g. Asia/Shanghai (none: the machine's)"),
]}  # fmt: skip


def get(name: str):
    """The setting's value: the environment variable when set (and valid), else the default."""
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or not raw.strip():
        return setting.default
    if isinstance(setting.default, int):
        try:
            value = int(float(raw))
        except ValueError:
            return setting.default
        return value if value > 0 else setting.default
    return raw.strip()
