"""Runs as the guard's build command: records every file's mtime as the guard left it, then execs the tool.

    python3 -S probe.py STATE_FILE ROOT OUTPUT_DIR -- TOOL ARGS...

This is the moment the promise is about (after `prepare`, before the build reads anything), so the
harness can assert it exactly instead of inferring it from the build's result.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snapshot  # noqa: E402

state_file, root, output_dir = sys.argv[1:4]
assert sys.argv[4] == "--", "usage: probe.py STATE ROOT OUTPUT_DIR -- TOOL ARGS..."
state = {"sources": snapshot.mtimes(root, skip=snapshot.SKIP), "outputs": snapshot.mtimes(output_dir)}
with open(state_file, "w") as f:
    json.dump(state, f)
os.execvp(sys.argv[5], sys.argv[5:])
