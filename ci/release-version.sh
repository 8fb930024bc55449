#!/bin/sh
# release-version.sh: the kubemint version that action.yml and
# templates/kubemint.yml install by default, which must be the release they
# are part of (a workflow that says `uses: kubemint/kubemint@v1.2.3` gets
# kubemint 1.2.3).
#
#   ci/release-version.sh get              print both defaults (one line each)
#   ci/release-version.sh set 1.2.3        write 1.2.3 into both (make release-version)
#   ci/release-version.sh check 1.2.3 false
#       fail unless both are 1.2.3; GoReleaser runs this before it builds a
#       release ({{ .Version }} {{ .IsSnapshot }}); a snapshot passes.
#
# So a release is: make release-version VERSION=1.2.3, commit, tag v1.2.3 on
# that commit, release; a tag without the commit fails the release build.
set -eu
cd "$(dirname "$0")/.."

# The default of the input named version: in action.yml under
# `inputs:` (2 spaces), in the component under `spec: inputs:` (4 spaces).
files="action.yml:2 templates/kubemint.yml:4"

get() { # FILE INDENT
	awk -v ind="$2" '
		BEGIN { key = sprintf("%" ind "s", "") "version:"; def = sprintf("%" ind+2 "s", "") "default: " }
		$0 == key { inside = 1; next }
		inside && index($0, def) == 1 { v = substr($0, length(def) + 1); gsub(/"/, "", v); print v; exit }
		inside && index($0, sprintf("%" ind+2 "s", "")) != 1 { exit }
	' "$1"
}

case ${1:-} in
get)
	for f in $files; do printf '%s %s\n' "${f%:*}" "$(get "${f%:*}" "${f#*:}")"; done
	;;
set)
	v=${2:-}
	v=${v#v}
	case $v in [0-9]*.[0-9]*.[0-9]*) ;; *)
		echo "kubemint: error: \"$v\" is not a release version: give make release-version VERSION=1.2.3" >&2
		exit 1
		;;
	esac
	for f in $files; do
		file=${f%:*} ind=${f#*:}
		awk -v ind="$ind" -v ver="$v" '
			BEGIN { key = sprintf("%" ind "s", "") "version:"; def = sprintf("%" ind+2 "s", "") "default: " }
			$0 == key { inside = 1 }
			inside && index($0, def) == 1 { $0 = def "\"" ver "\""; inside = 0 }
			{ print }
		' "$file" >"$file.new"
		mv "$file.new" "$file"
		[ "$(get "$file" "$ind")" = "$v" ] || { echo "kubemint: error: could not set the version in $file" >&2; exit 1; }
	done
	;;
check)
	v=${2:-}
	v=${v#v}
	[ "${3:-false}" = true ] && exit 0
	for f in $files; do
		got=$(get "${f%:*}" "${f#*:}")
		if [ "$got" != "$v" ]; then
			echo "kubemint: error: ${f%:*} installs kubemint $got by default, but this is release $v" >&2
			echo "kubemint: hint: run make release-version VERSION=$v, commit, and tag that commit v$v" >&2
			exit 1
		fi
	done
	;;
*)
	echo "usage: ci/release-version.sh get | set VERSION | check VERSION IS_SNAPSHOT" >&2
	exit 2
	;;
esac
