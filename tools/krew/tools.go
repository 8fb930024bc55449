//go:build tools

// Package tools records krew and its validator so `go mod tidy` keeps them.
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
