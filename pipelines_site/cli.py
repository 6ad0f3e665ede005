"""``stagecast``: manage.py as an installed command, with the project's settings.

``stagecast runpipeline demo --input hi``, ``stagecast listpipelines``, ``stagecast serve``, ``stagecast check`` …
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def checkout_dir() -> Path | None:
    """The checkout this package runs from (an editable install); None when it was installed from a wheel."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "manage.py").is_file() else None


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipelines_site.settings")
    if checkout_dir() is None:
        # Installed, the settings' defaults (.stagecast/ and pipelines/ beside the package) would be inside
        # site-packages: here they are the current directory's, as ARCHITECTURE.md writes them. Absolute,
        # so `serve`'s web server and worker (started elsewhere, with this environment) share them.
        os.environ.setdefault("STAGECAST_DATA_DIR", str(Path.cwd() / ".stagecast"))
        os.environ.setdefault("STAGECAST_PIPELINES_DIRS", str(Path.cwd() / "pipelines"))

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
