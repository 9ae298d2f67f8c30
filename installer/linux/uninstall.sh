#!/bin/sh
# Remove TeXSnap installed by install.sh: the files in install-manifest.txt and this folder.
#
#   ./uninstall.sh           keeps your settings, history and models (and says where they are)
#   ./uninstall.sh --purge   removes those too
#
# The per-user folders are the ones TeXSnap's core/paths.py gets from platformdirs, i.e. the
# XDG base directories (or the TEXSNAP_*_DIR overrides) + "TeXSnap".
set -eu

APPDIR=$(cd "$(dirname "$0")" && pwd)
MANIFEST="$APPDIR/install-manifest.txt"
PURGE=no
QUIET=no
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=yes ;;
        --quiet) QUIET=yes ;;
        *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
    esac
done

# Refuse to delete a folder that is not an installed TeXSnap.
if [ ! -f "$MANIFEST" ] || [ ! -x "$APPDIR/texsnap" ]; then
    echo "$APPDIR is not an installed TeXSnap (no install-manifest.txt): nothing removed." >&2
    exit 1
fi

while IFS= read -r file; do
    [ -n "$file" ] || continue
    rm -f "$file"
    case "$file" in  # drop the icon folders (16x16/apps...) that only held our icon
        */share/icons/*) rmdir "$(dirname "$file")" "$(dirname "$(dirname "$file")")" 2>/dev/null || true ;;
    esac
done < "$MANIFEST"
rm -rf "$APPDIR"

CONFIG=${TEXSNAP_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/TeXSnap}
DATA=${TEXSNAP_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/TeXSnap}
CACHE=${TEXSNAP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/TeXSnap}

if [ "$PURGE" = yes ]; then
    rm -rf "$CONFIG" "$DATA" "$CACHE"
    command -v secret-tool >/dev/null 2>&1 &&
        secret-tool clear service TeXSnap username api-token 2>/dev/null || true
    [ "$QUIET" = yes ] || echo "TeXSnap and your TeXSnap files are removed."
elif [ "$QUIET" = no ]; then
    echo "TeXSnap is removed. Your files are kept; delete these folders to remove them too:"
    echo "  settings:                $CONFIG"
    echo "  history and your models: $DATA"
    echo "  cache and log:           $CACHE"
    echo "  (or run this uninstaller with --purge next time)"
    echo "The local API token, if you used the API, is in your keyring (service TeXSnap)."
fi
