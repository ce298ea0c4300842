// Command edge-proxy is the node-local Kubernetes API endpoint of an edge
// node (see pkg/edgeproxy and docs/edge.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/edgeproxy"
)

// version is set at link time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

// memoryLimit keeps the heap near the 40 MiB RSS target (GOMEMLIMIT overrides).
const memoryLimit = 28 << 20

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Printf("edge-proxy %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return
	}
	fs := flag.NewFlagSet("edge-proxy", flag.ExitOnError)
	config := fs.String("config", contract.EdgeProxyConfigFile, "config file (YAML)")
	_ = fs.Parse(os.Args[1:])
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit) // a soft limit: the GC works harder near it
	}
	lg := log.New(os.Stderr, "", 0)
	cfg, err := edgeproxy.LoadConfig(*config)
	if err != nil {
		lg.Printf("edge-proxy: %v", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := edgeproxy.Run(ctx, cfg, edgeproxy.Options{Logger: lg}); err != nil {
		lg.Printf("edge-proxy: %v", err)
		os.Exit(1)
	}
}
