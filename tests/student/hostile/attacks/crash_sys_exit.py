# attack: crash
# expect: error
# must: treat a SystemExit raised inside backprop as the process ending (process_died)
"""raises SystemExit with a message inside backprop"""

import sys


def backprop(X, y, weights, biases):
    sys.exit("the student's code decided to exit")
