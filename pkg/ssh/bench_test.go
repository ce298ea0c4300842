package ssh_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

// BenchmarkUpload256MiB pushes the same 256 MiB file to a local sshd with
// this package, with scp and with `ssh host 'cat > f'`, interleaved, and
// reports each one's throughput and this package's speed relative to the
// others (>1 means faster). EDGEOPS_BENCH_MIB changes the size.
func BenchmarkUpload256MiB(b *testing.B) {
	size := 256
	if v, err := strconv.Atoi(os.Getenv("EDGEOPS_BENCH_MIB")); err == nil && v > 0 {
		size = v
	}
	srv := sshtest.StartServer(b, sshtest.ServerOptions{})
	key := sshtest.NewKey(b, "ed25519", "")
	srv.Authorize(b, "root", key.Public)
	known := srv.KnownHosts(b)
	dir := sshtest.TempDir(b, "bench")
	src := filepath.Join(dir, "src")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, int64(size)<<20); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ctx := context.Background()
	c, err := ssh.Dial(ctx, ssh.Config{Address: srv.Host, Port: srv.Port, IdentityFiles: []string{key.Path}, KnownHostsFiles: []string{known}, NoUserKnownHosts: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sshOpts := []string{"-i", key.Path, "-o", "UserKnownHostsFile=" + known, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"}
	target := filepath.Join(dir, "dst")

	methods := []struct {
		name string
		run  func() error
	}{
		{"edgeops", func() error {
			res, err := c.Upload(ctx, src, target, 0o644, ssh.UploadOptions{})
			if err == nil && res.Skipped {
				err = fmt.Errorf("skipped")
			}
			return err
		}},
		{"scp", func() error {
			args := append([]string{"-q", "-P", strconv.Itoa(srv.Port)}, sshOpts...)
			return runCmd(exec.Command("scp", append(args, src, "root@127.0.0.1:"+target)...), nil)
		}},
		{"ssh-cat", func() error {
			in, err := os.Open(src)
			if err != nil {
				return err
			}
			defer in.Close()
			args := append([]string{"-p", strconv.Itoa(srv.Port)}, sshOpts...)
			return runCmd(exec.Command("ssh", append(args, "root@127.0.0.1", "cat > "+target)...), in)
		}},
	}
	total := make([]time.Duration, len(methods))
	b.ResetTimer()
	for range b.N {
		for i, m := range methods {
			os.Remove(target)
			b.StopTimer()
			begin := time.Now()
			b.StartTimer()
			if err := m.run(); err != nil {
				b.Fatalf("%s: %v", m.name, err)
			}
			total[i] += time.Since(begin)
		}
	}
	b.StopTimer()
	mbps := func(i int) float64 {
		return float64(size) * float64(b.N) / total[i].Seconds()
	}
	for i, m := range methods {
		b.ReportMetric(mbps(i), m.name+"-MiB/s")
	}
	b.ReportMetric(mbps(0)/mbps(1), "x-vs-scp")
	b.ReportMetric(mbps(0)/mbps(2), "x-vs-ssh-cat")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d MiB x %d: edgeops %.0f MiB/s (%.2fs), scp %.0f MiB/s (%.2fs), ssh cat %.0f MiB/s (%.2fs); edgeops/scp %.2f, edgeops/ssh-cat %.2f",
		size, b.N, mbps(0), total[0].Seconds()/float64(b.N), mbps(1), total[1].Seconds()/float64(b.N), mbps(2), total[2].Seconds()/float64(b.N), mbps(0)/mbps(1), mbps(0)/mbps(2))
}

func runCmd(cmd *exec.Cmd, stdin io.Reader) error {
	cmd.Stdin = stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
