"""PyInstaller runtime hook: runs in the bundled app before main.py.

matplotlib would otherwise keep its font cache in ~/.cache/matplotlib (or ~/.matplotlib),
a folder an uninstall of TeXSnap cannot know about; inside TeXSnap's own cache folder it is
removed with the rest. The folder is only named here; matplotlib creates it when it renders.
"""

import os

from core import paths

os.environ.setdefault("MPLCONFIGDIR", str(paths.cache_dir(ensure=False) / "matplotlib"))
