package phases

import (
	"strings"
	"testing"
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
			for _, args := range [][]string{initArgs(s, s.Hosts[0], false), joinArgs(s, s.Hosts[1])} {
				if !strings.Contains(strings.Join(args, " "), strings.Join(tt.wantArgs, " ")) {
					t.Errorf("%v does not carry %v", args, tt.wantArgs)
				}
			}
		})
	}
}
