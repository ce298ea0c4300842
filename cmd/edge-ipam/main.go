// Command edge-ipam is the CNI IPAM plugin of edgeops nodes: host-local that
// gives a pod back its previous addresses (see pkg/edgeipam and docs/edge.md).
package main

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	cniversion "github.com/containernetworking/cni/pkg/version"

	"github.com/edgeops/edgeops/pkg/edgeipam"
)

// version is set at link time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

func main() {
	p := edgeipam.Plugin{Delegate: edgeipam.ExecDelegate{}, Out: types.PrintResult}
	skel.PluginMainFuncs(skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check},
		cniversion.All, "edge-ipam "+version+": host-local that gives a pod back its previous addresses")
}
