import sys

from bench.intake import main

sys.exit(main())
