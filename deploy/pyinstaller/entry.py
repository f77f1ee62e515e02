"""Entry point of the PyInstaller bundle: the same ``xiaozhibo`` command line as app/cli.py.

``xiaozhibo up`` starts its server as ``sys.executable -m app server ...``. In the bundle
``sys.executable`` is this program, so a leading ``-m app`` is dropped: the child then runs
``xiaozhibo server ...`` from the same bundle.
"""

import sys

if sys.argv[1:3] == ["-m", "app"]:
    del sys.argv[1:3]

from app.cli import main  # noqa: E402

sys.exit(main())
