"""The loop the check suites (suites/faults/faults.py, suites/redteam/redteam.py) share: each check gets a
fresh environment, prints `ok`, `FAIL` (with the reason) or `skip` (with the reason, not counted as
passed), and the run ends with exactly one line `SUITE: N passed, N failed`."""

import time
import traceback


class Failure(Exception):
    """An asserted outcome did not hold."""


class Skip(Exception):
    """The check can't run here (not root, no loop device); the reason is printed."""


def run_checks(suite, checks, make_env, only=None):
    """Runs `checks` (functions taking an environment) whose names are in `only` (all when empty);
    returns the exit status."""
    passed = failed = skipped = 0
    for function in checks:
        if only and function.__name__ not in only:
            continue
        env = make_env()
        started = time.monotonic()
        try:
            function(env)
            passed += 1
            print("ok   %s (%.1fs)" % (function.__name__, time.monotonic() - started), flush=True)
        except Skip as reason:
            skipped += 1
            print("skip %s: %s" % (function.__name__, reason), flush=True)
        except Failure as error:
            failed += 1
            print("FAIL %s: %s" % (function.__name__, error), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s: error in the check:\n%s" % (function.__name__, traceback.format_exc()), flush=True)
        finally:
            env.close()
    if skipped:
        print("%s: %d skipped (see above)" % (suite, skipped))
    print("%s: %d passed, %d failed" % (suite, passed, failed))
    return 1 if failed else 0
