#!/usr/bin/env python
"""Per-op latency of a run's block: compute time and time stalled on memory, stacked.

examples:
  python scripts/plot_latency_by_op.py run.json -o latency.pdf
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("latency_by_op", __doc__))
