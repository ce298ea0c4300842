//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// stepPreStage: `up --skip-phases stage` on hosts never staged is refused
// before anything changes; `up phase stage` stages edgeadm and the package
// and nothing else (no cluster, no token, no kubelet); a second `up phase
// stage` sends nothing. The next step's up then finds the files in place.
func stepPreStage(t *testing.T, s *suite) {
	hosts := s.hosts[:3]
	r := s.run(t, "up", "--skip-phases", "stage", "-i", s.inv3)
	if r.code == 0 {
		t.Fatalf("up --skip-phases stage on unstaged hosts exited 0:\n%s", tail(r.stdout, 20))
	}
	for _, h := range hosts {
		if !strings.Contains(r.stdout+r.stderr, h) || !strings.Contains(r.stdout+r.stderr, "is missing") {
			t.Errorf("the refusal does not name %s and what is missing:\n%s\n%s", h, tail(r.stdout, 20), r.stderr)
		}
	}
	if !strings.Contains(r.stdout+r.stderr, "edgeops up phase stage") {
		t.Errorf("the refusal does not say to run `edgeops up phase stage`:\n%s\n%s", tail(r.stdout, 20), r.stderr)
	}
	for _, h := range hosts {
		if out := s.mustSSH(t, h, "ls -d /etc/kubernetes /usr/local/bin/edgeadm 2>/dev/null || true"); strings.TrimSpace(out) != "" {
			t.Errorf("the refused run changed %s: %s", h, out)
		}
	}

	r = s.run(t, "up", "phase", "stage", "-i", s.inv3, "--output", "json")
	if r.code != 0 {
		t.Fatalf("up phase stage: exit %d\n%s\n%s", r.code, tail(r.stdout, 30), r.stderr)
	}
	for _, e := range events(t, r.stdout) {
		if e.Event == "summary" && !strings.Contains(e.Message, "status=staged") {
			t.Errorf("summary of up phase stage: %s %s", e.Host, e.Message)
		}
	}
	for _, h := range hosts {
		out := s.mustSSH(t, h, "ls /usr/local/bin/edgeadm /var/lib/edgeops/packages/*.tar.gz; ls -d /etc/kubernetes /etc/edgeadm/join-info.json 2>/dev/null; systemctl is-active kubelet || true")
		if !strings.Contains(out, "/usr/local/bin/edgeadm") || !strings.Contains(out, ".tar.gz") {
			t.Errorf("%s was not staged: %s", h, out)
		}
		if strings.Contains(out, "/etc/kubernetes") || strings.Contains(out, "join-info") || strings.Contains(out, "\nactive") {
			t.Errorf("up phase stage did more than stage on %s: %s", h, out)
		}
	}

	r = s.run(t, "up", "phase", "stage", "-i", s.inv3, "--output", "json")
	if r.code != 0 {
		t.Fatalf("up phase stage again: exit %d\n%s\n%s", r.code, tail(r.stdout, 30), r.stderr)
	}
	skipped := 0
	for _, e := range events(t, r.stdout) {
		if strings.Contains(e.Message, "-> /usr/local/bin/edgeadm") {
			t.Errorf("the second up phase stage sent edgeadm again to %s", e.Host)
		}
		if e.Phase == "stage" && e.Event == "skipped" && strings.Contains(e.Message, "sha256 matches") {
			skipped++
		}
	}
	if skipped != len(hosts) {
		t.Errorf("%d hosts skipped the second stage (sha256 matches), want %d", skipped, len(hosts))
	}
}
