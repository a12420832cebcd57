#!/usr/bin/env python
"""Validation: predicted against measured seconds on log-log axes with y = x and a +-25% corridor.

examples:
  python scripts/plot_parity.py validation.csv -o parity.pdf
  python scripts/plot_parity.py est.csv --measured seconds --predicted pred_seconds --group kind -o parity.png
"""

import sys

from hwsim.api import plot_script

if __name__ == "__main__":
    sys.exit(plot_script("parity", __doc__))
