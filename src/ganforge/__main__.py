import os
import sys

from .cli import main

code = main()
if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:  # a rank of a torchrun launch: see distributed.exit_rank
    from .scale import distributed

    distributed.exit_rank(code)
sys.exit(code)
