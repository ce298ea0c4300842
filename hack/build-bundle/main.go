// Command build-bundle builds the edgeops install package
// (_output/edgeops-bundle-<k8s>-linux-<arch>.tar.gz, or with --no-images
// ...-noimages.tar.gz) from bundles/ and the pinned Go modules.
// scripts/build-bundle (make bundle) runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/edgeops/edgeops/internal/bundlebuild"
	"github.com/edgeops/edgeops/pkg/bundle"
)

func main() {
	var o bundlebuild.Options
	verify, prefetchOnly := true, false
	flag.StringVar(&o.KubernetesVersion, "kubernetes-version", "", "Kubernetes version (default: bundles/versions.yaml)")
	flag.StringVar(&o.Arch, "arch", "amd64", "target architecture")
	flag.StringVar(&o.Root, "root", ".", "repository root")
	flag.StringVar(&o.Output, "output", "", "output directory (default ROOT/_output)")
	flag.BoolVar(&o.NoImages, "no-images", false, "build the package without images (online install: nodes pull from --image-repository), named ...-noimages.tar.gz")
	flag.BoolVar(&verify, "verify", true, "verify the package (hashes, images load) after building it")
	flag.BoolVar(&prefetchOnly, "prefetch-only", false, "only download and resolve the pinned modules")
	flag.Parse()
	root, err := filepath.Abs(o.Root)
	if err != nil {
		fail(err)
	}
	o.Root, o.Log = root, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := bundlebuild.New(ctx, o)
	if err != nil {
		fail(err)
	}
	if prefetchOnly {
		if err := b.Prefetch(ctx); err != nil {
			fail(err)
		}
		return
	}
	res, err := b.Build(ctx)
	if err != nil {
		fail(err)
	}
	if verify && !res.Cached {
		if err := bundle.Verify(ctx, res.Path); err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stderr, "[bundle] verified %s\n", res.Path)
	}
	st, err := os.Stat(res.Path)
	if err != nil {
		fail(err)
	}
	sum, _, err := bundle.FileSHA256(res.Path)
	if err != nil {
		fail(err)
	}
	images := fmt.Sprintf("%d images", len(res.Manifest.Images))
	if res.Manifest.NoImages() {
		images = fmt.Sprintf("no images (%d to pull from a registry)", len(res.Manifest.RegistryImages))
	}
	fmt.Fprintf(os.Stderr, "[bundle] %s: %d files, %s, %.1f MiB, sha256 %s, took %s\n",
		res.Path, len(res.Manifest.Files), images, float64(st.Size())/(1<<20), sum, res.Took)
	fmt.Println(res.Path)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "build-bundle:", err)
	os.Exit(1)
}
