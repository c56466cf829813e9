"""``python -m diploqa``: the same as the ``diploqa`` command."""

import sys

from .cli import main

sys.exit(main())
