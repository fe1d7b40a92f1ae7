#!/usr/bin/env python3
"""Runs a command and writes its peak resident memory in KiB to the file PEAK_RSS_OUT names.

The hostile-input tests measure the `feedesk` CLI through this small launcher rather than from
the test process itself: a child's peak (ru_maxrss) also counts the address space it was forked
from until its exec, and the one test binary running many tests at once is large. Forked from
this small process, the figure is the command's own. Its exit code (or signal) is passed on.
"""
import os
import resource
import signal
import subprocess
import sys

code = subprocess.call(sys.argv[1:])
with open(os.environ["PEAK_RSS_OUT"], "w", encoding="ascii") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
if code < 0:
    # Killed by a signal: die the same way, so the caller sees a crash, not an exit code.
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
