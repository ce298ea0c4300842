# Every target is a thin call to a script in scripts/, so CI and people run the same thing.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: build test e2e bundle lab-up lab-down demo bench bench-fleet fuzz vet clean

# edgeadm reports the version of the kubeadm it embeds, as kubeadm's release build stamps it.
KUBE_VERSION = $(shell go list -m -f '{{.Version}}' k8s.io/kubernetes)
KUBE_MINOR = $(word 2,$(subst ., ,$(KUBE_VERSION)))
KUBE_LDFLAGS = $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(KUBE_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=$(KUBE_MINOR) -X $(p).gitTreeState=clean)
# edgeadm's own version (edgeadm version): the checkout's tag or commit, "dev" outside git.
EDGEADM_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	mkdir -p _output
	go build -o _output/edgeops ./cmd/edgeops
	go build -ldflags "$(KUBE_LDFLAGS) -X main.version=$(EDGEADM_VERSION)" -o _output/edgeadm ./cmd/edgeadm
	CGO_ENABLED=0 go build -ldflags "-X main.version=$(EDGEADM_VERSION)" -o _output/edge-proxy ./cmd/edge-proxy

vet:
	go vet ./...

test:
	scripts/test

e2e:
	scripts/e2e

bundle:
	scripts/build-bundle

lab-up:
	scripts/lab up 3

lab-down:
	scripts/lab down

demo:
	scripts/demo

bench:
	scripts/bench

# N real sshd hosts (default 200): wall time and peak RSS of plan and up's stage; BENCH_FLEET="50 200" for several sizes.
bench-fleet:
	scripts/bench-fleet $(BENCH_FLEET)

clean:
	rm -rf _output
