"""``python -m carrier_mocks``: serve every carrier's mock until interrupted."""

import sys

from carrier_mocks.cli import main

sys.exit(main())
