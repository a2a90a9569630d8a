import sys

from tapegrad.cli import main

sys.exit(main())
