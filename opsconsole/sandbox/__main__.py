"""``python -m opsconsole.sandbox [--port N] [--scenario NAME] [--pods N] [--kubeconfig PATH]``"""

from __future__ import annotations

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
