"""For code that drives the editor headless (tests, scripts/screenshots.py): wait until what
is on screen is what the session says."""

from __future__ import annotations

import asyncio


async def settle(pilot, tries: int = 500) -> bool:
    """Wait for workers, and for the preview to show the current face at the current size with
    nothing left to render; False if that did not happen within `tries` short waits."""
    app = pilot.app
    for _ in range(tries):
        await pilot.pause()
        await app.workers.wait_for_complete()
        editor = app.editor
        if editor is not None and editor.preview_settled:
            await pilot.pause()
            return True
        await asyncio.sleep(0.01)
    return False
