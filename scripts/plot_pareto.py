#!/usr/bin/env python
"""Sweep: every point's latency against its energy, coloured by area, with each block's front ringed.

examples:
  python scripts/plot_pareto.py results/ -o pareto.pdf
  python scripts/plot_pareto.py results/ --x latency_s --y area_mm2 --color energy_j -o lat_area.pdf
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("pareto", __doc__))
