#!/bin/sh
# sbom.sh ARCHIVE DOCUMENT VERSION writes the CycloneDX SBOM of a release
# archive: the module graph that kubemint-full, the larger of its two
# binaries (it imports every package the front does), records in its build
# info, for that archive's platform. GoReleaser's sboms section runs it once
# per archive, in dist/. No serial number and no timestamp: the release is
# reproducible.
set -eu
archive=$1 document=$2 version=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$archive" in
*.zip) unzip -q "$archive" -d "$tmp" ;;
*) tar -xzf "$archive" -C "$tmp" ;;
esac
for full in "$tmp/kubemint-full" "$tmp/kubemint-full.exe"; do
	[ -f "$full" ] || continue
	exec cyclonedx-gomod bin -json -noserial -notimestamp -version "v$version" -output "$document" "$full"
done
echo "sbom.sh: no kubemint-full in $archive" >&2
exit 1
