package inventory

import (
	"fmt"
	"strings"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// CheckPackage reads a local install package's manifest and refuses one that
// does not carry cluster.kubernetesVersion, before any host is contacted.
// A package given by URL is checked by edgeadm on each host after download.
// It is separate from Load because only the commands that install need it.
func (inv *Inventory) CheckPackage() error {
	p := inv.Cluster.InstallPackage
	if p.Path == "" {
		return nil
	}
	fail := func(field, value, problem, expected string) error {
		return &ValidationError{File: inv.File, Errors: []*FieldError{{
			File: inv.File, Field: field, Value: value, Problem: problem, Expected: expected}}}
	}
	b, err := bundle.Open(p.Path)
	if err != nil {
		return fail("cluster.installPackage.path", p.Path, "not a readable install package: "+err.Error(),
			"a package built by `make bundle` (check it with `edgeops bundle verify FILE`)")
	}
	have, want := b.Manifest().KubernetesVersion, inv.Cluster.KubernetesVersion
	if !SameKubernetesVersion(have, want) {
		return fail("cluster.kubernetesVersion", want,
			fmt.Sprintf("the install package %s carries Kubernetes %s, not %s", p.Path, have, want),
			fmt.Sprintf("kubernetesVersion: %s for this package, or a package of %s (scripts/build-bundle --kubernetes-version %s)",
				have, want, canonicalVersion(want)))
	}
	return nil
}

// SameKubernetesVersion compares versions as kubeadm reads them: 1.37.2 and v1.37.2 are the same.
func SameKubernetesVersion(a, b string) bool {
	return canonicalVersion(a) == canonicalVersion(b)
}

func canonicalVersion(v string) string {
	return "v" + strings.TrimPrefix(strings.TrimSpace(v), "v")
}
