// Command krewmanifest writes the krew manifest for the plugin `mint` from
// what GoReleaser built: one platform per archive in checksums.txt, each
// with its download URL and sha256, installing both binaries (the front
// finds kubemint-full beside itself through krew's symlink) and LICENSE.
//
// GoReleaser's own krews section cannot: it allows one binary per archive,
// and kubemint's archives hold two.
//
//	go run ./krewmanifest -dist ../dist
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

// archiveName is GoReleaser's name_template for the archives.
var archiveName = regexp.MustCompile(`^kubemint_(.+)_(linux|darwin|windows)_(amd64|arm64)\.(tar\.gz|zip)$`)

type platform struct {
	OS, Arch, URI, SHA256, Ext string
}

type manifest struct {
	Version   string
	Platforms []platform
}

func main() {
	dist := flag.String("dist", "dist", "GoReleaser's dist directory")
	download := flag.String("download", "https://github.com/kubemint/kubemint/releases/download", "where the release's archives are downloaded from")
	flag.Parse()
	if err := run(*dist, *download); err != nil {
		fmt.Fprintf(os.Stderr, "krewmanifest: error: %v\n", err)
		os.Exit(1)
	}
}

func run(dist, download string) error {
	var meta struct {
		Tag     string `json:"tag"`
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		return fmt.Errorf("%w (run goreleaser first)", err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return fmt.Errorf("metadata.json: %w", err)
	}
	m := manifest{Version: "v" + strings.TrimPrefix(meta.Version, "v")}
	f, err := os.Open(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		sum, name, ok := strings.Cut(s.Text(), "  ")
		if !ok {
			continue
		}
		g := archiveName.FindStringSubmatch(name)
		if g == nil {
			continue
		}
		m.Platforms = append(m.Platforms, platform{
			OS: g[2], Arch: g[3], SHA256: sum,
			URI: download + "/" + meta.Tag + "/" + name,
			Ext: map[string]string{"windows": ".exe"}[g[2]],
		})
	}
	if err := s.Err(); err != nil {
		return err
	}
	if len(m.Platforms) != 6 {
		return fmt.Errorf("checksums.txt names %d archives, want 6 (linux, darwin, windows × amd64, arm64)", len(m.Platforms))
	}
	sort.Slice(m.Platforms, func(i, j int) bool {
		return m.Platforms[i].OS+m.Platforms[i].Arch < m.Platforms[j].OS+m.Platforms[j].Arch
	})
	if err := os.MkdirAll(filepath.Join(dist, "krew"), 0o755); err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(dist, "krew", "mint.yaml"))
	if err != nil {
		return err
	}
	if err := tmpl.Execute(out, m); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var tmpl = template.Must(template.New("mint.yaml").Parse(`apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: mint
spec:
  version: {{ .Version }}
  homepage: https://github.com/kubemint/kubemint
  shortDescription: Short-lived ServiceAccount tokens for kubeconfig exec entries
  description: |
    kubemint is a kubectl exec credential plugin: a kubeconfig user runs it,
    and it answers with a TokenRequest token for a ServiceAccount, minted
    through another context and cached in the OS keyring (or private files)
    until shortly before it expires.
  caveats: |
    Exec entries should name the installed binary by the path krew keeps
    across upgrades: $KREW_ROOT/bin/kubectl-mint (default ~/.krew/bin).
    Run: kubectl mint setup --help
  platforms:
{{- range .Platforms }}
  - selector:
      matchLabels:
        os: {{ .OS }}
        arch: {{ .Arch }}
    uri: {{ .URI }}
    sha256: {{ .SHA256 }}
    files:
    - from: kubemint{{ .Ext }}
      to: .
    - from: kubemint-full{{ .Ext }}
      to: .
    - from: LICENSE
      to: .
    bin: kubemint{{ .Ext }}
{{- end }}
`))
