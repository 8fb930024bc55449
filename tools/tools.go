//go:build tools

// Package tools records the release tools `make dist` builds, so that
// `go mod tidy` keeps them pinned in go.mod.
package tools

import (
	_ "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod"
	_ "github.com/goreleaser/goreleaser/v2"
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
