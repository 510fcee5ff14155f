import sys

from bench.ledger import main

sys.exit(main())
