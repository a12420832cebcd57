#!/usr/bin/env python
"""Die area of a run's architecture by component.

examples:
  python scripts/plot_area_breakdown.py run.json -o area.pdf
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("area_breakdown", __doc__))
