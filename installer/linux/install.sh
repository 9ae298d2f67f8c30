#!/bin/sh
# Install TeXSnap from this unpacked folder (the one holding the `texsnap` executable).
#
#   ./install.sh            for you:      ~/.local/opt/TeXSnap, ~/.local/bin/texsnap, menu entry
#   sudo ./install.sh --system   for all:  /opt/TeXSnap, /usr/local/bin/texsnap, menu entry
#
# PREFIX and APPDIR override the two locations. Every file placed outside APPDIR is listed in
# APPDIR/install-manifest.txt, which APPDIR/uninstall.sh reads to remove exactly those files.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
NAME=texsnap
ICON_SIZES="16 24 32 48 64 128 256 512"

if [ "${1:-}" = "--system" ]; then
    PREFIX=${PREFIX:-/usr/local}
    APPDIR=${APPDIR:-/opt/TeXSnap}
elif [ -n "${1:-}" ]; then
    echo "usage: $0 [--system]" >&2
    exit 2
else
    PREFIX=${PREFIX:-$HOME/.local}
    APPDIR=${APPDIR:-$PREFIX/opt/TeXSnap}
fi

if [ ! -x "$HERE/$NAME" ]; then
    echo "$HERE/$NAME is missing: run this script from the unpacked TeXSnap folder." >&2
    exit 1
fi

# An earlier version is removed first (its uninstaller knows its files); user data stays.
if [ -f "$APPDIR/install-manifest.txt" ] && [ "$APPDIR" != "$HERE" ]; then
    sh "$APPDIR/uninstall.sh" --quiet
fi

if [ "$APPDIR" != "$HERE" ]; then
    # never replace a folder that is not TeXSnap (APPDIR=$HOME by mistake, say)
    if [ -e "$APPDIR" ] && [ -n "$(ls -A "$APPDIR" 2>/dev/null)" ] && [ ! -x "$APPDIR/$NAME" ]; then
        echo "$APPDIR exists and is not a TeXSnap installation: choose another APPDIR." >&2
        exit 1
    fi
    mkdir -p "$(dirname "$APPDIR")"
    rm -rf "$APPDIR"
    cp -a "$HERE" "$APPDIR"
fi

MANIFEST="$APPDIR/install-manifest.txt"
: > "$MANIFEST"
place() {  # place SOURCE DEST: copy one file outside APPDIR and remember it
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    echo "$2" >> "$MANIFEST"
}

mkdir -p "$PREFIX/bin"
ln -sf "$APPDIR/$NAME" "$PREFIX/bin/$NAME"
echo "$PREFIX/bin/$NAME" >> "$MANIFEST"

# The menu entry runs the installed executable by its full path (PATH may lack PREFIX/bin).
DESKTOP="$PREFIX/share/applications/$NAME.desktop"
mkdir -p "$(dirname "$DESKTOP")"
sed -e "s|^Exec=$NAME |Exec=\"$APPDIR/$NAME\" |" -e "s|^TryExec=$NAME\$|TryExec=$APPDIR/$NAME|" \
    "$HERE/$NAME.desktop" > "$DESKTOP"
echo "$DESKTOP" >> "$MANIFEST"

ICONS="$APPDIR/_internal/resources/icons"
for size in $ICON_SIZES; do
    place "$ICONS/$NAME-$size.png" "$PREFIX/share/icons/hicolor/${size}x${size}/apps/$NAME.png"
done
place "$ICONS/$NAME.svg" "$PREFIX/share/icons/hicolor/scalable/apps/$NAME.svg"

# Refresh the menu and icon caches where this system keeps them (never start new ones:
# a cache no one maintains would hide icons installed later).
refresh_caches() {
    if [ -f "$PREFIX/share/applications/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$PREFIX/share/applications" 2>/dev/null || true
    fi
    if [ -f "$PREFIX/share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" 2>/dev/null || true
    fi
}
refresh_caches

echo "TeXSnap is installed in $APPDIR"
echo "  command:    $PREFIX/bin/$NAME (run '$NAME --help')"
echo "  menu entry: $DESKTOP"
echo "  uninstall:  $APPDIR/uninstall.sh"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "Note: $PREFIX/bin is not on your PATH; the menu entry works regardless." ;;
esac
