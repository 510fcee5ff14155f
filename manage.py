#!/usr/bin/env python
"""Same as the ``kiln`` console script."""

from kiln.cli import main

if __name__ == "__main__":
    main()
