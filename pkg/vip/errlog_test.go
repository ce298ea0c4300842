package vip

import (
	"bytes"
	"log"
	"strings"
	"testing"
	"time"
)

func TestErrLogDeduplicates(t *testing.T) {
	var buf bytes.Buffer
	e := newErrLog(log.New(&buf, "", 0), 50*time.Millisecond)
	for range 5 {
		e.Print("API server: get lease: connection refused")
	}
	e.Print("other")
	time.Sleep(60 * time.Millisecond)
	e.Print("API server: get lease: connection refused")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || lines[0] != "API server: get lease: connection refused" || lines[1] != "other" ||
		!strings.HasPrefix(lines[2], "API server: get lease: connection refused (repeated 4 times in") {
		t.Fatalf("logged:\n%s", buf.String())
	}
}

func TestPreciseRaw(t *testing.T) {
	// Two renewals within one second: the record's JSON is the same, the
	// bytes handed to client-go are not.
	a, b := leaseRecordAt(t, "2026-01-02T03:04:05.100Z"), leaseRecordAt(t, "2026-01-02T03:04:05.900Z")
	ja, jb := jsonOf(t, a), jsonOf(t, b)
	if !bytes.Equal(ja, jb) {
		t.Skip("the record's JSON now keeps sub-second times")
	}
	if bytes.Equal(preciseRaw(ja, a), preciseRaw(jb, b)) {
		t.Fatal("renewals within one second look alike")
	}
}
