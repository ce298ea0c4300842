package bundlebuild

import (
	"strings"
	"testing"
)

func TestRewriteGoMod(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		m       GoModule
		sibling string
		want    []string
		notWant []string
	}{
		{
			name: "kubernetes staging replaces become versioned",
			in: "module k8s.io/kubernetes\n\ngo 1.24.0\n\nrequire (\n\tk8s.io/api v0.0.0\n\tk8s.io/klog/v2 v2.130.1\n)\n\n" +
				"replace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/sample-cli-plugin => ./staging/src/k8s.io/sample-cli-plugin\n)\n",
			m: GoModule{Module: "k8s.io/kubernetes", Version: "v1.34.4"}, sibling: "v0.34.4",
			want:    []string{"module edgeops.build/x", "\tk8s.io/api => k8s.io/api v0.34.4", "require k8s.io/kubernetes v1.34.4", "\tk8s.io/klog/v2 v2.130.1"},
			notWant: []string{"./staging", "sample-cli-plugin =>"},
		},
		{
			name: "etcd sibling replaces and forbidden ones",
			in: "module go.etcd.io/etcd/server/v3\n\ngo 1.24\n\ntoolchain go1.24.9\n\nrequire go.etcd.io/etcd/api/v3 v3.6.5\n\n" +
				"replace (\n\tgo.etcd.io/etcd/api/v3 => ../api\n)\n\nreplace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY\n",
			m: GoModule{Module: "go.etcd.io/etcd/server/v3", Version: "v3.6.5"}, sibling: "v3.6.5",
			want:    []string{"\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.5", "require go.etcd.io/etcd/server/v3 v3.6.5"},
			notWant: []string{"FORBIDDEN", "toolchain", "../api"},
		},
		{
			name: "no sibling version drops local replaces, keeps remote ones",
			in: "module github.com/x/y\n\nrequire (\n\tgithub.com/a/b v1.0.0\n)\n\nreplace github.com/a/b => ../b\n" +
				"replace github.com/c/d => github.com/c/d v1.2.3\n",
			m:       GoModule{Module: "github.com/x/y", Version: "v1.0.0", Replace: map[string]string{"github.com/e/f": "v1.3.78"}},
			want:    []string{"replace github.com/c/d => github.com/c/d v1.2.3", "replace github.com/e/f => github.com/e/f v1.3.78"},
			notWant: []string{"../b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rewriteGoMod(tc.in, "edgeops.build/x", tc.m, tc.sibling)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("missing line %q in:\n%s", w, got)
				}
			}
			for _, nw := range tc.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("unexpected %q in:\n%s", nw, got)
				}
			}
		})
	}
	if _, err := rewriteGoMod("go 1.24\n", "x", GoModule{Module: "m"}, ""); err == nil {
		t.Error("a go.mod without a module line was accepted")
	}
}

func TestKubeLdflags(t *testing.T) {
	tests := []struct {
		version, want string
		wantErr       bool
	}{
		{version: "v1.34.4", want: "-X k8s.io/component-base/version.gitMinor=34"},
		{version: "v1.35.0-rc.1", want: "-X k8s.io/client-go/pkg/version.gitVersion=v1.35.0-rc.1"},
		{version: "1.34", wantErr: true},
	}
	for _, tc := range tests {
		got, err := kubeLdflags(tc.version)
		if (err != nil) != tc.wantErr || !strings.Contains(got, tc.want) {
			t.Errorf("kubeLdflags(%q) = %q, %v", tc.version, got, err)
		}
	}
	if got := stagingVersion("v1.34.4"); got != "v0.34.4" {
		t.Errorf("stagingVersion = %s", got)
	}
}
