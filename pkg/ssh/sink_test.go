package ssh

import (
	"fmt"
	"strings"
	"testing"
)

func TestLineWriterMarker(t *testing.T) {
	long := strings.Repeat("x", markerWindow+10)
	tests := []struct {
		name     string
		chunks   []string
		wantPgid int
		wantBuf  string
		wantLine []string
	}{
		{"marker first", []string{"edgeops-pgid:42\nerr one\n"}, 42, "err one\n", []string{"err one"}},
		{"marker split over writes", []string{"edge", "ops-pgid:4", "3\nrest"}, 43, "rest", []string{"rest"}},
		{"noise before marker", []string{"sudo: unable to resolve host x\n", "edgeops-pgid:7\n", "boom\n"}, 7, "sudo: unable to resolve host x\nboom\n", []string{"sudo: unable to resolve host x", "boom"}},
		{"no marker, flushed at end", []string{"sh: setsid: not found\n"}, 0, "sh: setsid: not found\n", []string{"sh: setsid: not found"}},
		{"no marker within the window", []string{long}, 0, long, []string{long}},
		{"crlf trimmed", []string{"edgeops-pgid:9\r\nwin\r\n"}, 0, "win\r\n", []string{"win"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			w := &lineWriter{host: "h", stream: Stderr, wantMarker: true, pgidCh: make(chan int, 1),
				sink: func(l Line) { lines = append(lines, l.Text) }}
			for _, c := range tt.chunks {
				if n, err := w.Write([]byte(c)); n != len(c) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			w.flush()
			pg := <-w.pgidCh // closed (0) when no marker
			if pg != tt.wantPgid || w.buf.String() != tt.wantBuf || fmt.Sprint(lines) != fmt.Sprint(tt.wantLine) {
				t.Fatalf("pgid %d buf %q lines %q; want %d %q %q", pg, w.buf.String(), lines, tt.wantPgid, tt.wantBuf, tt.wantLine)
			}
		})
	}
}
