"""``python -m mintactors`` is the ``mintactors`` command."""

import sys

from mintactors.cli import main

sys.exit(main())
