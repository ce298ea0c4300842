# Every target is a thin call to a script in scripts/, so CI and people run the same thing.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: build test e2e bundle lab-up lab-down demo bench fuzz vet clean

build:
	mkdir -p _output
	go build -o _output/edgeops ./cmd/edgeops
	go build -o _output/edgeadm ./cmd/edgeadm

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

clean:
	rm -rf _output
