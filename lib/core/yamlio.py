"""Reading YAML quickly: libyaml's C loader where PyYAML was built with it, else the Python one.

The KPI catalogue, schemes, mappings and interface text are read at every start of the command
line and the app; the C loader reads them several times faster, with the same safe rules.
"""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str):
    """Like `yaml.safe_load`."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
