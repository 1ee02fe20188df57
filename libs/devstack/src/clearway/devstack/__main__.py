import sys

from clearway.devstack.cli import main

sys.exit(main())
