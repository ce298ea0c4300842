package ssh_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

// BenchmarkUpload256MiB pushes the same 256 MiB file to a local sshd with
// this package, with scp and with `ssh host 'cat > f'`, interleaved, and
// reports each one's median throughput and this package's speed relative
// to the others (>1 means faster). The package's figure includes everything
// an Upload does on a connected client: stat, temporary file, concurrent
// writes, remote and local sha256, mode and rename. scp and ssh start a
// connection each time (as they would). EDGEOPS_BENCH_MIB changes the size.
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
	times := make([][]time.Duration, len(methods))
	b.ResetTimer()
	for range b.N {
		for i, m := range methods {
			b.StopTimer()
			os.Remove(target)
			b.StartTimer()
			begin := time.Now()
			if err := m.run(); err != nil {
				b.Fatalf("%s: %v", m.name, err)
			}
			times[i] = append(times[i], time.Since(begin))
		}
	}
	b.StopTimer()
	// Medians: this machine is shared, and one slow round says little.
	mbps := make([]float64, len(methods))
	line := fmt.Sprintf("%d MiB, median of %d rounds:", size, b.N)
	for i, m := range methods {
		med := median(times[i])
		mbps[i] = float64(size) / med.Seconds()
		b.ReportMetric(mbps[i], m.name+"-MiB/s")
		line += fmt.Sprintf(" %s %.0f MiB/s (%.2fs)", m.name, mbps[i], med.Seconds())
	}
	b.ReportMetric(mbps[0]/mbps[1], "x-vs-scp")
	b.ReportMetric(mbps[0]/mbps[2], "x-vs-ssh-cat")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s; edgeops/scp %.2f, edgeops/ssh-cat %.2f", line, mbps[0]/mbps[1], mbps[0]/mbps[2])
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func runCmd(cmd *exec.Cmd, stdin io.Reader) error {
	cmd.Stdin = stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
