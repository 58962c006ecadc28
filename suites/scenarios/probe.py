"""Runs as the guard's build command: records every source's mtime as the guard left it, then execs the tool.

    python3 -S probe.py STATE_FILE ROOT OUTPUT_DIR KIND -- TOOL ARGS...

This is the moment the promise is about (after `prepare`, before the build reads anything), so the
harness can assert it exactly instead of inferring it from the build's result. Source times are read
as the build tool reads them (stat, through symlinks); KIND is `make` or `cargo`.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture  # noqa: E402
import snapshot  # noqa: E402

state_file, root, output_dir, kind = sys.argv[1:5]
assert sys.argv[5] == "--", "usage: probe.py STATE ROOT OUTPUT_DIR KIND -- TOOL ARGS..."
state = {"sources": fixture.source_mtimes(root, kind), "outputs": snapshot.mtimes(output_dir)}
with open(state_file, "w") as f:
    json.dump(state, f)
os.execvp(sys.argv[6], sys.argv[6:])
