#!/usr/bin/env python
"""Sweep: latency, energy and area (or one --metric) against one swept --param: the median over
the other parameters, shaded from their min to their max.

examples:
  python scripts/plot_sensitivity.py results/ --param units.mxu.rows -o rows.pdf
  python scripts/plot_sensitivity.py results/ --param workload.batch --metric latency_s -o batch.pdf
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("sensitivity", __doc__))
