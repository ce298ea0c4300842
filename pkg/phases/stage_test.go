package phases

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/report"
)

// A URL package is fetched by the host: the plan must not claim it is
// staged, and edgeadm must get the URL and its checksum.
func TestPackageSourceInPlanAndArgs(t *testing.T) {
	const sum = "a500fcd91071b37f1ed45266f30d35467534fced9f830f82e6ce44b51e2ffbca"
	tests := []struct {
		name, pkg, sha string
		wantPlan       string
		wantArgs       []string
	}{
		{"staged file", "/tmp/out/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", "",
			"stage /usr/local/bin/edgeadm and /var/lib/edgeops/packages/edgeops-bundle-v1.34.4-linux-amd64.tar.gz",
			[]string{"--install-pkg-path", "/var/lib/edgeops/packages/edgeops-bundle-v1.34.4-linux-amd64.tar.gz"}},
		{"http url", "http://172.28.30.1:8080/p/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", sum,
			"stage /usr/local/bin/edgeadm; the host fetches http://172.28.30.1:8080/p/edgeops-bundle-v1.34.4-linux-amd64.tar.gz itself",
			[]string{"--install-pkg-path", "http://172.28.30.1:8080/p/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", "--install-pkg-sha256", sum}},
		{"https url", "https://example.com/edgeops-bundle-v1.34.4-linux-arm64.tar.gz", sum,
			"stage /usr/local/bin/edgeadm; the host fetches https://example.com/edgeops-bundle-v1.34.4-linux-arm64.tar.gz itself",
			[]string{"--install-pkg-path", "https://example.com/edgeops-bundle-v1.34.4-linux-arm64.tar.gz", "--install-pkg-sha256", sum}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testState(2, 1)
			s.Package, s.PackageSHA256 = tt.pkg, tt.sha
			if got := (stagePhase{}).DryRun(s, s.Hosts[1]); got != tt.wantPlan {
				t.Errorf("plan: got %q, want %q", got, tt.wantPlan)
			}
			for _, args := range [][]string{initArgs(s, s.Hosts[0], false), joinArgs(s, s.Hosts[1], false)} {
				if !strings.Contains(strings.Join(args, " "), strings.Join(tt.wantArgs, " ")) {
					t.Errorf("%v does not carry %v", args, tt.wantArgs)
				}
			}
		})
	}
}

// A package URL with a credential (a signed URL's query, an ftp password)
// goes to the hosts in a root-only file, never in argv.
func TestSecretPackageURLStaysOutOfArgv(t *testing.T) {
	for _, tt := range []struct{ url, secret string }{
		{"https://pkgs.example/edgeops-bundle-v1.34.4-linux-amd64.tar.gz?X-Amz-Signature=deadbeefcafe0123", "X-Amz-Signature"},
		{"ftp://mirror:hunter2@pkgs.example/pub/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", "hunter2"},
	} {
		t.Run(tt.secret, func(t *testing.T) {
			lab := newFakeLab(master, edge)
			s := lab.state(t, nil)
			s.Package, s.PackageSHA256 = tt.url, "ab12"
			if err := Run(context.Background(), s, UpPhases()); err != nil {
				t.Fatalf("up: %v", err)
			}
			for _, h := range lab.hosts {
				for _, c := range h.commands() {
					if strings.Contains(c, tt.secret) {
						t.Errorf("%s: the secret is in a command: %q", h.addr, firstLine(c))
					}
				}
				if !h.ran("--install-pkg-path-file " + packageURLFile) {
					t.Errorf("%s: edgeadm was not pointed at %s", h.addr, packageURLFile)
				}
				if !h.ran("upload " + packageURLFile) {
					t.Errorf("%s: the URL was not written to %s", h.addr, packageURLFile)
				}
				if h.has(packageURLFile) {
					t.Errorf("%s: %s left after the run", h.addr, packageURLFile)
				}
			}
		})
	}
}

func TestStageNamesTheEdgeadm(t *testing.T) {
	lab := newFakeLab(master)
	s := lab.state(t, nil)
	bin := filepath.Join(t.TempDir(), "edgeadm")
	os.WriteFile(bin, []byte("#!/bin/sh\necho v1.34.4\n"), 0o755)
	s.EdgeadmBinary = bin
	var out strings.Builder
	s.Report = report.New(report.Options{Log: &out})
	if err := Run(context.Background(), s, UpPhases()); err != nil {
		t.Fatal(err)
	}
	// sha256 of the script above
	sum, _, _ := bundle.FileSHA256(bin)
	if want := "edgeadm " + bin + ": kubeadm v1.34.4, sha256 " + sum; !strings.Contains(out.String(), want) {
		t.Errorf("run log lacks %q:\n%s", want, out.String())
	}
}
