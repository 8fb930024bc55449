SHELL := /bin/bash
# kubemint: `make demo` runs the product against a throwaway control plane,
# `make test` runs every test. Both set up what they need.

GO        ?= go
BIN       ?= bin
TOOLS_BIN := e2e/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Static binaries: cgo's dynamic linking would cost every kubectl call ~1 ms.
export CGO_ENABLED ?= 0

.PHONY: all build tools deps print-deb-packages test test-unit test-e2e cover fuzz bench demo install docs docs-check lint cross clean

all: build

## build: the lean front (kubemint) and the full CLI (kubemint-full), one product
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/kubemint ./cmd/kubemint-full

## tools: kube-apiserver, etcd and kubectl (and kubectl.exe, run under Wine) from the pinned modules in e2e/tools (built once, then cached)
tools: $(TOOLS_BIN)/kube-apiserver $(TOOLS_BIN)/kubectl $(TOOLS_BIN)/etcd $(TOOLS_BIN)/kubectl.exe

$(TOOLS_BIN)/kube-apiserver $(TOOLS_BIN)/kubectl: e2e/tools/go.mod e2e/tools/go.sum
	cd e2e/tools && $(GO) build -trimpath -o ../bin/ k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
	touch $(TOOLS_BIN)/kube-apiserver $(TOOLS_BIN)/kubectl

$(TOOLS_BIN)/etcd: e2e/tools/go.mod e2e/tools/go.sum
	cd e2e/tools && $(GO) build -trimpath -o ../bin/etcd go.etcd.io/etcd/server/v3

$(TOOLS_BIN)/kubectl.exe: e2e/tools/go.mod e2e/tools/go.sum
	cd e2e/tools && GOOS=windows GOARCH=amd64 $(GO) build -trimpath -o ../bin/kubectl.exe k8s.io/kubernetes/cmd/kubectl

## deps: Debian packages for the e2e tests: real Secret Services (gnome-keyring, KeePassXC, KWallet, D-Bus), Wine with mingw-w64 to run the Windows builds, and the official Python Kubernetes client (apt-get as root, else a hint)
DEB_PACKAGES := gnome-keyring keepassxc libkf5wallet-bin dbus libsecret-tools wine wine64 gcc-mingw-w64-x86-64-win32 python3-kubernetes
deps:
	@for b in dbus-run-session gnome-keyring-daemon keepassxc kwalletd5 secret-tool wine x86_64-w64-mingw32-gcc; do command -v $$b >/dev/null || missing=1; done; \
	/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing $(DEB_PACKAGES)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
		else \
			echo "make test needs: sudo apt-get install $(DEB_PACKAGES)" >&2; exit 1; \
		fi; \
	fi

print-deb-packages:
	@echo $(DEB_PACKAGES)

## test: unit tests with the race detector, then end-to-end against the real control plane and Secret Service
test: test-unit test-e2e

test-unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

test-e2e: tools deps
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout=30m ./e2e

## cover: statement coverage of the token flow (credential: flags, exec info, hit path; resolve: the flow), without a server
COVER_PKGS ?= ./credential ./resolve
cover:
	$(GO) test -count=1 -cover $(COVER_PKGS)

FUZZTIME ?= 10s

## fuzz: the exec-info parser, the cache entry decoder, the JWT claims reader
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./cache
	$(GO) test -run='^$$' -fuzz=FuzzParseExecInfo -fuzztime=$(FUZZTIME) ./credential
	$(GO) test -run='^$$' -fuzz=FuzzAccountOf -fuzztime=$(FUZZTIME) ./kubeconfig

## bench: cache-hit cost against a static hello-world, cold mint against kubectl create token
bench: tools build
	$(GO) run ./bench -bin $(BIN) -tools $(TOOLS_BIN)

## demo: a throwaway control plane, a service account with a Role, kubectl through the exec entry
demo: tools build
	$(GO) run ./e2e/demo -bin $(BIN) -tools $(TOOLS_BIN)

## install: build and install to ~/.local/bin (PREFIX or BINDIR to change)
install:
	./install.sh

## docs: regenerate the command reference in docs/reference from the CLI
docs:
	$(GO) run ./docs/gen docs/reference

docs-check:
	$(GO) run ./docs/gen docs/reference
	git diff --exit-code docs/reference || (echo "docs/reference is stale: run make docs" >&2; exit 1)

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOBIN=$(CURDIR)/$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(TOOLS_BIN)/staticcheck ./...
	GOOS=windows $(TOOLS_BIN)/staticcheck ./...

## cross: every platform kubemint ships for
cross:
	for os in linux darwin windows; do for arch in amd64 arm64; do \
		GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/$$os-$$arch/ ./cmd/kubemint ./cmd/kubemint-full || exit 1; \
	done; done

clean:
	rm -rf $(BIN) dist
