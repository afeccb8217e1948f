"""The testbed the tests and the benchmarks share: real databases, the real CLI, a real server.

Not part of the installed service: it starts `shelter-match` the way an operator would.
"""
