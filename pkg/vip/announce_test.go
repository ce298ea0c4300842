package vip

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"
	"time"
)

func TestAnnounceAndRelease(t *testing.T) {
	t.Parallel()
	nw := newNetwork()
	f := nw.iface("m1", false)
	var buf bytes.Buffer
	lg := log.New(&buf, "", 0)

	start := time.Now()
	if err := announce(context.Background(), f, f, "VIP", lg); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second || took > 1500*time.Millisecond {
		t.Errorf("3 announcements took %v, want about 1s", took)
	}
	if adds, _, a := f.counts(); adds != 1 || a != 3 || !present(f) {
		t.Errorf("adds %d, announcements %d, present %v", adds, a, present(f))
	}
	// Again: nothing to add, announced again.
	if err := announce(context.Background(), f, f, "VIP", lg); err != nil {
		t.Fatal(err)
	}
	if adds, _, a := f.counts(); adds != 1 || a != 6 {
		t.Errorf("second announce: adds %d, announcements %d", adds, a)
	}
	if !strings.Contains(buf.String(), "added VIP") || !strings.Contains(buf.String(), "VIP was already there") {
		t.Errorf("log:\n%s", buf.String())
	}

	for range 2 {
		if err := release(f, "VIP", lg); err != nil {
			t.Fatal(err)
		}
	}
	if _, removes, _ := f.counts(); removes != 1 || present(f) {
		t.Errorf("removes %d, present %v", removes, present(f))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := announce(ctx, f, f, "VIP", lg); err == nil {
		t.Error("announce with a cancelled context: no error")
	}
}

func TestAnnounceRejectsBadAddress(t *testing.T) {
	t.Parallel()
	if err := Announce(context.Background(), "10.0.0.1/24", "eth0", log.Default()); err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Errorf("Announce: %v", err)
	}
	if err := Release("", "", log.Default()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Release: %v", err)
	}
}
