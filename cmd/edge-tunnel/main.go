// Command edge-tunnel lets the API server reach edge nodes it cannot dial:
// "edge-tunnel server" on masters, "edge-tunnel agent" on edge nodes (see
// pkg/tunnel and docs/edge.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/tunnel"
)

// version is set at link time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

const usage = "usage: edge-tunnel server|agent [--config FILE] | edge-tunnel version"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	lg := log.New(os.Stderr, "", 0)
	switch cmd := os.Args[1]; cmd {
	case "version":
		fmt.Printf("edge-tunnel %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "server":
		path := configFlag(cmd, contract.EdgeTunnelServerConfigFile)
		cfg, err := tunnel.LoadServerConfig(path)
		if err != nil {
			lg.Printf("edge-tunnel server: %v", err)
			os.Exit(2)
		}
		run("server", lg, func(ctx context.Context) error {
			return tunnel.RunServer(ctx, cfg, tunnel.ServerOptions{Logger: lg})
		})
	case "agent":
		path := configFlag(cmd, contract.EdgeTunnelAgentConfigFile)
		cfg, err := tunnel.LoadAgentConfig(path)
		if err != nil {
			lg.Printf("edge-tunnel agent: %v", err)
			os.Exit(2)
		}
		run("agent", lg, func(ctx context.Context) error {
			return tunnel.RunAgent(ctx, cfg, tunnel.AgentOptions{Logger: lg})
		})
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

// configFlag parses the subcommand's flags and returns --config.
func configFlag(cmd, def string) string {
	fs := flag.NewFlagSet("edge-tunnel "+cmd, flag.ExitOnError)
	config := fs.String("config", def, "config file (YAML)")
	_ = fs.Parse(os.Args[2:])
	if fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	return *config
}

// run runs f until SIGINT or SIGTERM; a failure exits 1.
func run(what string, lg *log.Logger, f func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f(ctx); err != nil {
		lg.Printf("edge-tunnel %s: %v", what, err)
		stop()
		os.Exit(1)
	}
}
