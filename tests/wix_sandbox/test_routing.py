"""The route table (``routing.py``): every operation at its path and its endpoints.json aliases."""

from __future__ import annotations

import json

from wix_sandbox.routing import routed_templates


def test_every_endpoints_json_operation_the_app_uses_is_routed_at_its_path_and_aliases() -> None:
    from pathlib import Path

    ops = json.loads((Path(__file__).resolve().parents[2] / "wix_sandbox/endpoints.json").read_text())
    routed = routed_templates()
    routed_primary = {(m, p) for m, p in routed}
    missing = []
    for op in ops:
        if (op["http_method"], op["path"]) not in routed_primary:
            continue  # not an operation the sandbox claims
        for alias in op.get("alt_paths") or []:
            if (op["http_method"], alias) not in routed:
                missing.append((op["http_method"], alias))
    assert not missing
