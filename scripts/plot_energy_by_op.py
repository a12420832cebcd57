#!/usr/bin/env python
"""Per-op energy of a run's block, stacked by component (compute, SRAM, DRAM, leakage).

examples:
  python scripts/plot_energy_by_op.py run.json -o energy.svg
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("energy_by_op", __doc__))
