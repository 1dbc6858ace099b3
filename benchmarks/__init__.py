"""rpcbridge's benchmark suite: ``python -m benchmarks [--quick]`` (see docs/performance.md).

Importing this package removes ``NODE_EXTRA_CA_CERTS`` from the environment every benchmark
and its children run with (``NODE_EXTRA_CA_CERTS_WAS_SET`` records that it was set). Node
parses that bundle at start-up (~40 ms with Debian's), and rpcbridge's host without handler
modules already goes without it (``rpcbridge._host.host_environment``) while the floor, the
spawn-per-call baselines and the http server would pay it: the tables compare designs, not one
machine's environment, so every Node here starts the same way, as on a machine without it.
"""

import os

NODE_EXTRA_CA_CERTS_WAS_SET = os.environ.pop("NODE_EXTRA_CA_CERTS", None) is not None
