# Sourced by scripts/install.sh and scripts/test.sh: where the project's virtual environment lives.
# XIAOZHIBO_VENV overrides the default ~/.local/share/xiaozhibo/venv (XDG_DATA_HOME respected).
XZB_VENV="${XIAOZHIBO_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/xiaozhibo/venv}"
XZB_PY="$XZB_VENV/bin/python"
