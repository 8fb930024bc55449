#!/bin/sh
# setup-kubemint.sh: what the GitHub Action (action.yml) and the GitLab CI/CD
# component (templates/kubemint.yml) run. It installs one pinned kubemint
# release, verified against the release's checksums.txt, and (given a
# service account) writes the job's kubeconfig with `kubemint kubeconfig`,
# whose exec entry mints with the CI system's own OIDC token. It reads and
# writes no secret: the ID token is read by kubemint itself, on every mint.
#
# POSIX sh (bash on GitHub's runners, Git Bash on Windows; ash in an Alpine
# job image). It needs curl, tar (unzip or PowerShell for Windows' .zip)
# and one of sha256sum, shasum or openssl.
#
# Input, from the environment (the action and the component set these):
#   KUBEMINT_VERSION       the release, 1.2.3 or v1.2.3 (required)
#   KUBEMINT_BASE_URL      where releases are: BASE/vVERSION/FILE
#                          (default https://github.com/kubemint/kubemint/releases/download)
#   KUBEMINT_SERVICE_ACCOUNT NAMESPACE/NAME; empty: install only
#   KUBEMINT_SERVER        the API server's https URL
#   KUBEMINT_CERTIFICATE_AUTHORITY       its CA, a PEM file, or
#   KUBEMINT_CERTIFICATE_AUTHORITY_DATA  the PEM itself (or base64 of it)
#   KUBEMINT_TOKEN_ENV     mint with the token in this variable (GitLab's
#                          id_tokens); empty: GitHub Actions' ID token
#   KUBEMINT_AUDIENCE      with GitHub: the ID token's audience (default kubernetes)
#   KUBEMINT_REVOCABLE     true: bind tokens to setup --revocable's Secret
#   KUBEMINT_DURATION      the minted tokens' lifetime (default 1h)
#   KUBEMINT_CONTEXT_NAME  the kubeconfig context's name
#   KUBEMINT_KUBECONFIG    where to write it (default TEMP/kubemint/kubeconfig)
#   KUBEMINT_KUBECTL_VERSION  also install this kubectl (verified against
#                          its .sha256); empty: use the image's
#   KUBEMINT_KUBECTL_BASE_URL where kubectl is (default https://dl.k8s.io/release)
#   KUBEMINT_ENV_FILE      without GITHUB_ENV: write `export` lines here
#                          for the job's shell to source (GitLab)
# and RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, RUNNER_TOOL_CACHE on GitHub
# (uname and TMPDIR elsewhere).
#
# Output: on GitHub the bin directories go to GITHUB_PATH, KUBECONFIG to
# GITHUB_ENV, and kubeconfig, version and bin-dir to GITHUB_OUTPUT; with
# KUBEMINT_ENV_FILE, the same as export lines. Any failure is one
# `kubemint: error:` line (and hints) on stderr, and then nothing was
# exported; bad input and a download that fails verification also leave
# nothing installed (kubemint kubeconfig, last, runs the installed binary).
set -eu

fail() {
	printf 'kubemint: error: %s\n' "$1" >&2
	shift
	for h in "$@"; do printf 'kubemint: hint: %s\n' "$h" >&2; done
	exit 1
}

# work is this run's scratch directory, removed on exit.
tmp_root=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
work=$(mktemp -d "$tmp_root/kubemint-setup.XXXXXX") || fail "cannot create a directory in $tmp_root"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

# native is a path as the job's programs want it: a Windows path under Git
# Bash (for GITHUB_PATH, GITHUB_ENV and kubemint.exe), else unchanged.
native() {
	if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi
}

# --- what to fetch --------------------------------------------------------

version=${KUBEMINT_VERSION:-}
version=${version#v}
case $version in
'') fail "no kubemint version given" "set the action's version input (or KUBEMINT_VERSION), for example 1.2.3" ;;
[0-9]*.[0-9]*.[0-9]*) ;;
*) fail "kubemint version \"$version\" is not a release version" "give one as 1.2.3 or v1.2.3" ;;
esac
case $version in
*[!0-9A-Za-z.+-]*) fail "kubemint version \"$version\" is not a release version" "give one as 1.2.3 or v1.2.3" ;;
esac

base=${KUBEMINT_BASE_URL:-https://github.com/kubemint/kubemint/releases/download}
base=${base%/}
case $base in
https://?*) ;;
*) fail "base URL \"$base\" is not an https URL" "releases are fetched from BASE/vVERSION/FILE, for example https://github.com/kubemint/kubemint/releases/download" ;;
esac

runner_os=${RUNNER_OS:-$(uname -s)}
case $runner_os in
Linux) os=linux ;;
macOS | Darwin) os=darwin ;;
Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) fail "no kubemint release for the operating system $runner_os" "releases are built for Linux, macOS and Windows" ;;
esac
runner_arch=${RUNNER_ARCH:-$(uname -m)}
case $runner_arch in
X64 | x86_64 | amd64) arch=amd64 cache_arch=x64 ;;
ARM64 | aarch64 | arm64) arch=arm64 cache_arch=arm64 ;;
*) fail "no kubemint release for the architecture $runner_arch" "releases are built for x64 (amd64) and ARM64" ;;
esac
exe='' ext=tar.gz
if [ "$os" = windows ]; then exe=.exe ext=zip; fi
# The name .goreleaser.yaml gives each archive.
archive=kubemint_${version}_${os}_${arch}.${ext}
release=$base/v$version

# --- the kubeconfig's arguments, checked before anything is fetched ------

kubeconfig=''
if [ -n "${KUBEMINT_SERVICE_ACCOUNT:-}" ]; then
	[ -n "${KUBEMINT_SERVER:-}" ] || fail "no server given for the kubeconfig" "set server: the API server's https URL as this job reaches it"
	ca=${KUBEMINT_CERTIFICATE_AUTHORITY:-}
	if [ -n "${KUBEMINT_CERTIFICATE_AUTHORITY_DATA:-}" ]; then
		[ -z "$ca" ] || fail "both certificate-authority and certificate-authority-data given" "give one of them"
		ca=$work/ca.crt
		case $KUBEMINT_CERTIFICATE_AUTHORITY_DATA in
		*-----BEGIN*) printf '%s\n' "$KUBEMINT_CERTIFICATE_AUTHORITY_DATA" >"$ca" ;;
		*) printf '%s' "$KUBEMINT_CERTIFICATE_AUTHORITY_DATA" | { base64 -d 2>/dev/null || base64 -D; } >"$ca" 2>/dev/null ||
			fail "certificate-authority-data is neither PEM nor base64" "give the CA's PEM, or a kubeconfig's certificate-authority-data" ;;
		esac
	fi
	[ -n "$ca" ] || fail "no CA given for the kubeconfig" "set certificate-authority (a PEM file in the job) or certificate-authority-data"
	kubeconfig=${KUBEMINT_KUBECONFIG:-$tmp_root/kubemint/kubeconfig}
	set -- kubeconfig --service-account="$KUBEMINT_SERVICE_ACCOUNT" --server="$KUBEMINT_SERVER" \
		--certificate-authority="$(native "$ca")" -o "$(native "$kubeconfig")" --force
	if [ -n "${KUBEMINT_TOKEN_ENV:-}" ]; then
		set -- "$@" --source-token-env="$KUBEMINT_TOKEN_ENV"
	else
		set -- "$@" --source-github-actions
		case ${KUBEMINT_AUDIENCE:-kubernetes} in
		kubernetes) ;;
		*) set -- "$@" --source-audience="$KUBEMINT_AUDIENCE" ;;
		esac
	fi
	case ${KUBEMINT_REVOCABLE:-false} in
	true) set -- "$@" --revocable ;;
	false | '') ;;
	*) fail "revocable is \"$KUBEMINT_REVOCABLE\"" "give true or false" ;;
	esac
	[ -z "${KUBEMINT_DURATION:-}" ] || set -- "$@" --duration="$KUBEMINT_DURATION"
	[ -z "${KUBEMINT_CONTEXT_NAME:-}" ] || set -- "$@" --context-name="$KUBEMINT_CONTEXT_NAME"
fi

# --- tools ----------------------------------------------------------------

command -v curl >/dev/null 2>&1 || fail "curl is not installed" "the job's image needs curl, tar and sh"

# fetch URL FILE WHAT: GET over https only (redirects too), into FILE.
fetch() {
	code=$(curl -sSL --proto '=https' --tlsv1.2 --retry 3 --connect-timeout 20 --max-time 300 \
		-o "$2" -w '%{http_code}' "$1" 2>"$work/curl.err") || {
		fail "downloading $3 from $1: $(tr '\n' ' ' <"$work/curl.err")" \
			"check the base URL and the network; a mirror or GitHub Enterprise Server takes base-url"
	}
	case $code in
	200) ;;
	404) return 44 ;;
	*) fail "downloading $3 from $1: HTTP $code" "check the base URL and the network" ;;
	esac
}

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 -r "$1" | cut -d' ' -f1
	else
		fail "no sha256sum, shasum or openssl: cannot verify the download" "install one of them in the job's image"
	fi
}

is_sha256() {
	case $1 in
	*[!0-9a-f]*) return 1 ;;
	esac
	[ ${#1} -eq 64 ]
}

# --- the release: checksums.txt, then the archive -------------------------

status=0
fetch "$release/checksums.txt" "$work/checksums.txt" "checksums.txt of kubemint v$version" || status=$?
if [ "$status" = 44 ]; then
	fail "kubemint v$version not found: $release/checksums.txt answers 404" \
		"check the version (releases: https://github.com/kubemint/kubemint/releases) and the base URL"
fi
want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$work/checksums.txt")
case $want in
'') fail "checksums.txt of kubemint v$version has no line for $archive" \
	"nothing was installed: the release lacks this runner's $runner_os/$runner_arch build, or checksums.txt is damaged" ;;
*"
"*) fail "checksums.txt of kubemint v$version has several lines for $archive" "nothing was installed: checksums.txt is damaged" ;;
esac
is_sha256 "$want" || fail "checksums.txt of kubemint v$version has no sha256 for $archive" "nothing was installed: checksums.txt is damaged"

# The tool cache (GitHub's layout: TOOL/VERSION/ARCH, ARCH.complete beside
# it). The marker holds the archive's sha256 and each binary's: an entry is
# reused only when it came from this very archive and its binaries are
# still what was unpacked (a self-hosted runner keeps its cache).
cache_root=${RUNNER_TOOL_CACHE:-$tmp_root/kubemint-tools}
dest=$cache_root/kubemint/$version/$cache_arch
marker() { # DIR ARCHIVE_SHA256
	printf '%s
' "$2"
	for b in kubemint kubemint-full; do
		[ -f "$1/$b$exe" ] || return 0
		printf '%s %s
' "$b$exe" "$(sha256 "$1/$b$exe")"
	done
}
if [ -f "$dest.complete" ] && [ "$(cat "$dest.complete")" = "$(marker "$dest" "$want")" ]; then
	:
else
	status=0
	fetch "$release/$archive" "$work/$archive" "$archive" || status=$?
	[ "$status" = 44 ] && fail "$archive of kubemint v$version not found: $release/$archive answers 404" \
		"nothing was installed: the release lists it in checksums.txt but does not serve it"
	got=$(sha256 "$work/$archive")
	[ "$got" = "$want" ] || fail "$archive does not match checksums.txt of kubemint v$version (sha256 $got, want $want)" \
		"nothing was installed: the download was altered or damaged; run the job again, and report it if it persists"
	mkdir "$work/x"
	if [ "$ext" = zip ]; then
		if command -v unzip >/dev/null 2>&1; then
			unzip -q "$work/$archive" -d "$work/x" || fail "cannot unpack $archive"
		else
			powershell.exe -NoProfile -NonInteractive -Command \
				"Expand-Archive -LiteralPath '$(native "$work/$archive")' -DestinationPath '$(native "$work/x")'" >/dev/null ||
				fail "cannot unpack $archive" "install unzip, or run where PowerShell is"
		fi
	else
		tar -xzf "$work/$archive" -C "$work/x" || fail "cannot unpack $archive"
	fi
	for b in kubemint kubemint-full; do
		[ -f "$work/x/$b$exe" ] || fail "$archive has no $b$exe" "nothing was installed"
		chmod 0755 "$work/x/$b$exe"
	done
	# Into the cache: a fresh directory renamed into place, marked
	# complete last, so a run that stops half-way leaves no entry in use.
	mkdir -p "$cache_root/kubemint/$version" || fail "cannot create $cache_root/kubemint/$version"
	rm -rf "$dest.complete" "$dest" "$dest.new.$$"
	mkdir "$dest.new.$$"
	cp "$work/x/kubemint$exe" "$work/x/kubemint-full$exe" "$dest.new.$$/"
	mv "$dest.new.$$" "$dest"
	marker "$dest" "$want" >"$dest.complete"
fi
bin_dirs=$dest

# --- kubectl, when asked for ----------------------------------------------

kubectl_version=${KUBEMINT_KUBECTL_VERSION:-}
kubectl_version=${kubectl_version#v}
if [ -n "$kubectl_version" ]; then
	case $kubectl_version in
	*[!0-9A-Za-z.+-]* | [!0-9]*) fail "kubectl version \"$kubectl_version\" is not a release version" "give one as 1.34.2" ;;
	esac
	kbase=${KUBEMINT_KUBECTL_BASE_URL:-https://dl.k8s.io/release}
	kbase=${kbase%/}
	case $kbase in https://?*) ;; *) fail "kubectl base URL \"$kbase\" is not an https URL" ;; esac
	kurl=$kbase/v$kubectl_version/bin/$os/$arch/kubectl$exe
	kdest=$cache_root/kubectl/$kubectl_version/$cache_arch
	status=0
	fetch "$kurl.sha256" "$work/kubectl.sha256" "kubectl v$kubectl_version's sha256" || status=$?
	[ "$status" = 44 ] && fail "kubectl v$kubectl_version not found: $kurl.sha256 answers 404" "check the kubectl version"
	kwant=$(awk 'NR == 1 { print $1 }' "$work/kubectl.sha256")
	is_sha256 "$kwant" || fail "$kurl.sha256 holds no sha256" "nothing was installed"
	# kubectl's sha256 is the binary's own: a cached one is hashed again.
	if ! { [ -f "$kdest.complete" ] && [ -f "$kdest/kubectl$exe" ] && [ "$(sha256 "$kdest/kubectl$exe")" = "$kwant" ]; }; then
		status=0
		fetch "$kurl" "$work/kubectl$exe" "kubectl v$kubectl_version" || status=$?
		[ "$status" = 44 ] && fail "kubectl v$kubectl_version not found: $kurl answers 404" "check the kubectl version"
		kgot=$(sha256 "$work/kubectl$exe")
		[ "$kgot" = "$kwant" ] || fail "kubectl v$kubectl_version does not match its .sha256 (sha256 $kgot, want $kwant)" \
			"nothing was installed: the download was altered or damaged"
		chmod 0755 "$work/kubectl$exe"
		mkdir -p "$cache_root/kubectl/$kubectl_version" || fail "cannot create $cache_root/kubectl/$kubectl_version"
		rm -rf "$kdest.complete" "$kdest" "$kdest.new.$$"
		mkdir "$kdest.new.$$"
		cp "$work/kubectl$exe" "$kdest.new.$$/"
		mv "$kdest.new.$$" "$kdest"
		printf '%s\n' "$kwant" >"$kdest.complete"
	fi
	bin_dirs="$bin_dirs
$kdest"
fi

# --- the job's kubeconfig -------------------------------------------------

if [ -n "$kubeconfig" ]; then
	mkdir -p "$(dirname "$kubeconfig")" || fail "cannot create the directory of $kubeconfig"
	# The arguments made above; kubemint's own errors are already one
	# error line and hints.
	"$dest/kubemint$exe" "$@" >/dev/null
fi

# --- hand the job its PATH and KUBECONFIG ---------------------------------

if [ -n "${GITHUB_PATH:-}" ]; then
	printf '%s\n' "$bin_dirs" | while IFS= read -r d; do native "$d"; done >>"$GITHUB_PATH"
	[ -z "$kubeconfig" ] || printf 'KUBECONFIG=%s\n' "$(native "$kubeconfig")" >>"$GITHUB_ENV"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		printf 'version=%s\n' "$version"
		printf 'bin-dir=%s\n' "$(native "$dest")"
		[ -z "$kubeconfig" ] || printf 'kubeconfig=%s\n' "$(native "$kubeconfig")"
	} >>"$GITHUB_OUTPUT"
fi
if [ -n "${KUBEMINT_ENV_FILE:-}" ]; then
	{
		path_add=$(printf '%s\n' "$bin_dirs" | tr '\n' ':')
		printf "export PATH='%s'\"\$PATH\"\n" "$path_add"
		[ -z "$kubeconfig" ] || printf "export KUBECONFIG='%s'\n" "$kubeconfig"
	} >"$KUBEMINT_ENV_FILE"
fi
printf 'kubemint %s (%s) in %s\n' "$version" "$archive" "$dest"
[ -z "$kubeconfig" ] || printf 'KUBECONFIG=%s: service account %s\n' "$kubeconfig" "$KUBEMINT_SERVICE_ACCOUNT"
