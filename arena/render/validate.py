"""Renderers for ``arena validate``: one line per check, or the JSON document."""

from __future__ import annotations

from arena.commands.validate import CheckStatus, ValidationResult


def render_validation_text(result: ValidationResult) -> str:
    """One line per check: verdict, name, numbers and why; then the overall verdict."""
    lines = [f"{check.status:4}  {check.name:13} {check.detail}" for check in result.checks]
    failed = [c.name for c in result.checks if c.status is CheckStatus.FAIL]
    verdict = f"FAIL ({', '.join(failed)})" if failed else "PASS"
    lines.append(f"{result.model} on {result.target}: {verdict}")
    return "\n".join(lines) + "\n"


def validation_document(result: ValidationResult) -> dict[str, object]:
    """JSON-ready dict of the checks."""
    return {
        "model": result.model,
        "target": result.target,
        "ok": result.ok,
        "checks": [{"name": c.name, "status": str(c.status), "detail": c.detail} for c in result.checks],
    }
