import sys

from .scale import distributed
from .cli import main

code = main()
if distributed.launched_world_size() > 1:  # a rank of a torchrun launch: see distributed.exit_rank
    distributed.exit_rank(code)
sys.exit(code)
