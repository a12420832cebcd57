#!/usr/bin/env python
"""Shares of a run's block latency by op, energy by op and energy by component (100% bars).

examples:
  python scripts/plot_block_shares.py run.json -o shares.pdf
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("block_shares", __doc__))
