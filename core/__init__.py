"""TeXSnap core: recognition, LaTeX handling and local data. Plain Python + torch, never Qt.

Import what you need from the submodules (``core.recognizer``, ``core.latex``...); this
package's ``__init__`` stays empty of heavy imports so that the GUI starts fast.
"""

__version__ = "0.1.0"

# OpenMP threads that wait for work by spinning make every parallel region wait for a
# descheduled sibling when the cores are busy with anything else (a browser, a training
# run): measured on 2 shared cores, greedy recognition took 3.6 s instead of 0.24 s.
# Sleeping waiters cost microseconds per region. Read once, when torch starts OpenMP, so
# it is set here, before any torch import; a value the user set wins.
import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
