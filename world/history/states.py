"""`python -m world.history.states IMAGE`: print the pickled states of the image's live
definitions (see views.findings, which runs this beside its own walk of the history)."""
from __future__ import annotations

import pickle
import sys

from .views import states_of_image


def main() -> int:
    """Write the states of the image named on the command line to stdout."""
    states = states_of_image(sys.argv[1])
    sys.stdout.buffer.write(pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
