import sys

from acai.cli import main

sys.exit(main())
