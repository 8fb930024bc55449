#!/bin/sh
# install.sh builds kubemint from this checkout and installs it.
#
# kubemint is one product in two binaries: kubemint, the lean front that
# kubectl runs on every call and that answers cache hits, and kubemint-full,
# which it hands everything else to. Both go into the same directory.
# kubectl-mint is linked beside them so that `kubectl mint ...` works.
#
#   ./install.sh                  # to ~/.local/bin
#   BINDIR=/usr/local/bin ./install.sh
#   PREFIX=/opt/kubemint ./install.sh   # to /opt/kubemint/bin
set -eu
cd "$(dirname "$0")"

if [ -z "${BINDIR:-}" ]; then
	if [ -n "${PREFIX:-}" ]; then
		BINDIR="$PREFIX/bin"
	else
		BINDIR="$HOME/.local/bin"
	fi
fi

# A directory every user may write to, and that is not sticky, lets any of
# them replace kubemint-full (which kubectl runs with your credentials) or
# rename the directory away: refuse it, and any parent of it so open,
# before building anything.
unsafe_dir() {
	d=$1
	while :; do
		if [ -e "$d" ]; then
			case $(ls -ldL "$d" | cut -c1-10) in
			?????????[tT]) ;; # sticky, as /tmp: others cannot replace our files
			????????w?)
				echo "$d"
				return 0
				;;
			esac
		fi
		parent=$(dirname "$d")
		[ "$parent" = "$d" ] && return 1
		d=$parent
	done
}
case $BINDIR in
/*) ;;
*) BINDIR="$PWD/$BINDIR" ;;
esac
if bad=$(unsafe_dir "$BINDIR"); then
	echo "install.sh: error: $bad is writable by every user and not sticky: anyone could replace kubemint-full in $BINDIR" >&2
	echo "install.sh: hint: chmod o-w '$bad' (or chmod +t '$bad'), or install elsewhere: BINDIR=\$HOME/.local/bin ./install.sh" >&2
	exit 1
fi

command -v go >/dev/null 2>&1 || { echo "install.sh: go is not installed; get Go 1.26 or newer from your package manager" >&2; exit 1; }

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$build/" ./cmd/kubemint ./cmd/kubemint-full

mkdir -p "$BINDIR"
# Install the full binary first: a kubemint that finds no kubemint-full
# beside it cannot mint.
for b in kubemint-full kubemint; do
	install -m 0755 "$build/$b" "$BINDIR/$b.new"
	mv -f "$BINDIR/$b.new" "$BINDIR/$b"
done
ln -sf kubemint "$BINDIR/kubectl-mint"

echo "installed kubemint $version to $BINDIR (kubemint, kubemint-full, kubectl-mint)"
case ":$PATH:" in
*":$BINDIR:"*) ;;
*) echo "note: $BINDIR is not on PATH; kubeconfig exec entries can name $BINDIR/kubemint directly" ;;
esac
