package edgeipam

import (
	"context"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
)

// ExecDelegate runs the delegate plugin found in CNI_PATH, as the CNI
// library's invoke package does for every chained plugin.
type ExecDelegate struct{}

func (ExecDelegate) Add(ctx context.Context, plugin string, netconf []byte) (types.Result, error) {
	return invoke.DelegateAdd(ctx, plugin, netconf, nil)
}

func (ExecDelegate) Del(ctx context.Context, plugin string, netconf []byte) error {
	return invoke.DelegateDel(ctx, plugin, netconf, nil)
}

func (ExecDelegate) Check(ctx context.Context, plugin string, netconf []byte) error {
	return invoke.DelegateCheck(ctx, plugin, netconf, nil)
}
