#!/usr/bin/env python
"""Schedule of a run's block: when each op ran on its unit (Gantt chart).

examples:
  python scripts/plot_timeline.py run.json -o timeline.pdf
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("timeline", __doc__))
