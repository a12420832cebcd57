#!/usr/bin/env python
"""Roofline of a run's architecture with every op of the block placed at its arithmetic intensity
(against each memory level) and achieved throughput; ceilings are the units' peak flop rates.

examples:
  hwsim run --format json --out run.json
  python scripts/plot_roofline.py run.json -o roofline.pdf --width 3.5 --height 2.8
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("roofline", __doc__))
