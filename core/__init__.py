"""TeXSnap core: recognition, LaTeX handling and local data. Plain Python + torch, never Qt.

Import what you need from the submodules (``core.recognizer``, ``core.latex``...); this
package's ``__init__`` stays empty of heavy imports so that the GUI starts fast.
"""

__version__ = "0.1.0"
