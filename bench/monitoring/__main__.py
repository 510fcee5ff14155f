import sys

from bench.monitoring import main

sys.exit(main())
