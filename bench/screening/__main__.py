import sys

from bench.screening import main

sys.exit(main())
