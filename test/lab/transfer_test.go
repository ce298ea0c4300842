package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// transferRate copies size random bytes over ssh between this machine and the
// host at ip (toHost: from here to the host; else back) and returns the rate
// in Mbit/s, ssh's own setup included (a few round trips: it only lowers the rate).
func (l *lab) transferRate(ctx context.Context, ip string, size int, toHost bool) (float64, error) {
	cmd := fmt.Sprintf("head -c %d /dev/urandom", size)
	var stdin []byte
	if toHost {
		cmd = "cat >/dev/null"
		stdin = make([]byte, size)
		if _, err := rand.Read(stdin); err != nil {
			return 0, err
		}
	}
	c := exec.CommandContext(ctx, "ssh", "-i", filepath.Join(l.dir, "key"),
		"-o", "UserKnownHostsFile="+filepath.Join(l.dir, "known_hosts"), "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@"+ip, cmd)
	c.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	start := time.Now()
	if err := c.Run(); err != nil {
		return 0, fmt.Errorf("host %s: ssh %q: %w: %s", ip, cmd, err, errOut.String())
	}
	elapsed := time.Since(start)
	if !toHost && out.Len() != size {
		return 0, fmt.Errorf("host %s: received %d bytes, want %d", ip, out.Len(), size)
	}
	return float64(size) * 8 / elapsed.Seconds() / 1e6, nil
}

// delayerPIDs reads the pids of the lab's running lab-netem delayers from
// scripts/lab's state ($LAB_STATE, which scripts/lab inherits from the tests).
func (l *lab) delayerPIDs(t *testing.T) []int {
	t.Helper()
	state := os.Getenv("LAB_STATE")
	if state == "" {
		state = "/var/lib/edgeops-lab"
	}
	files, err := filepath.Glob(filepath.Join(state, "netem", testLab, "*.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pids = append(pids, pid)
	}
	return pids
}
