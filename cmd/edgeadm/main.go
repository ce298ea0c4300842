// Command edgeadm is the edgeops node agent: kubeadm's own commands, with
// node preparation, the offline install package, CNI, edge components and
// join information around them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/klog/v2"
)

func main() {
	addKlogFlags()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, flush := newRoot(os.Stdin, os.Stdout, os.Stderr)
	err := root.ExecuteContext(ctx)
	flush()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

// addKlogFlags exposes the same klog flags kubeadm does (-v, --vmodule) on
// the process-wide flag set cobra adds to every command. Called once.
func addKlogFlags() {
	var all flag.FlagSet
	klog.InitFlags(&all)
	all.VisitAll(func(f *flag.Flag) {
		if f.Name == "v" || f.Name == "vmodule" {
			flag.CommandLine.Var(f.Value, f.Name, f.Usage)
		}
	})
	pflag.CommandLine.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
	pflag.CommandLine.AddGoFlagSet(flag.CommandLine)
}
