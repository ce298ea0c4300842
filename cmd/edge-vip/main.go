// Command edge-vip holds the control plane's virtual IP on the masters:
// "edge-vip run" elects a holder through a Lease on this master's own API
// server; "edge-vip announce" and "edge-vip release" add and remove the
// address by hand (see pkg/vip and docs/ha.md).
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
	"github.com/edgeops/edgeops/pkg/vip"
)

// version is set at link time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

const usage = `usage: edge-vip run [--config FILE]
       edge-vip announce --address A [--interface I]
       edge-vip release --address A [--interface I]
       edge-vip version`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	lg := log.New(os.Stderr, "", 0)
	switch cmd := os.Args[1]; cmd {
	case "version":
		fmt.Printf("edge-vip %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "run":
		fs := newFlags(cmd)
		path := fs.String("config", contract.VIPConfigFile, "config file (YAML)")
		parse(fs)
		cfg, err := vip.LoadConfig(*path)
		if err != nil {
			lg.Printf("edge-vip run: %v", err)
			os.Exit(2)
		}
		run(cmd, lg, func(ctx context.Context) error {
			return vip.Run(ctx, cfg, vip.Options{Logger: lg})
		})
	case "announce", "release":
		fs := newFlags(cmd)
		addr := fs.String("address", "", "the virtual IPv4 address")
		iface := fs.String("interface", "", "interface (default: "+map[string]string{
			"announce": "the one whose subnet contains the address",
			"release":  "every interface carrying it",
		}[cmd]+")")
		parse(fs)
		if *addr == "" {
			fmt.Fprintf(os.Stderr, "edge-vip %s: --address is required\n%s\n", cmd, usage)
			os.Exit(2)
		}
		if _, err := vip.ParseAddress(*addr); err != nil {
			lg.Printf("edge-vip %s: --address: %v", cmd, err)
			os.Exit(2)
		}
		run(cmd, lg, func(ctx context.Context) error {
			if cmd == "announce" {
				return vip.Announce(ctx, *addr, *iface, lg)
			}
			return vip.Release(*addr, *iface, lg)
		})
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

func newFlags(cmd string) *flag.FlagSet {
	return flag.NewFlagSet("edge-vip "+cmd, flag.ExitOnError)
}

// parse parses the subcommand's flags; extra arguments are a usage error.
func parse(fs *flag.FlagSet) {
	_ = fs.Parse(os.Args[2:])
	if fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

// run runs f until it returns or SIGINT or SIGTERM; a failure exits 1.
func run(what string, lg *log.Logger, f func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f(ctx); err != nil {
		lg.Printf("edge-vip %s: %v", what, err)
		stop()
		os.Exit(1)
	}
}
