package tunnel

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseHello(t *testing.T) {
	tests := []struct {
		line, want, wantErr string
	}{
		{strings.TrimSuffix(hello{Node: "edge-1"}.String(), "\n"), "edge-1", ""},
		{"EDGE-TUNNEL/1 node=edge-1 future=yes", "edge-1", ""},
		{"EDGE-TUNNEL/2 node=edge-1", "", "want EDGE-TUNNEL/1"},
		{"EDGE-TUNNEL/1", "", "names no node"},
		{"EDGE-TUNNEL/1 node=", "", "names no node"},
		{"EDGE-TUNNEL/1 edge-1", "", "not key=value"},
		{"", "", "empty hello"},
		{"GET / HTTP/1.1", "", "want EDGE-TUNNEL/1"},
	}
	for _, tt := range tests {
		h, err := parseHello(tt.line)
		if h.Node != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("parseHello(%q) = %q, %v; want %q, %q", tt.line, h.Node, err, tt.want, tt.wantErr)
		}
	}
}

func TestStreamHeaderAndReply(t *testing.T) {
	for _, tt := range []struct {
		line, want string
		ok         bool
	}{
		{strings.TrimSuffix(streamHeader("172.28.30.12:10250"), "\n"), "172.28.30.12:10250", true},
		{"CONNECT [fd00::1]:10250", "[fd00::1]:10250", true},
		{"CONNECT edge-1:10250", "edge-1:10250", true},
		{"CONNECT 10.0.0.1", "", false},
		{"DIAL 10.0.0.1:1", "", false},
		{"", "", false},
	} {
		got, err := parseStreamHeader(tt.line)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseStreamHeader(%q) = %q, %v", tt.line, got, err)
		}
	}
	for _, tt := range []struct {
		line   string
		reason string // "" for OK
		fails  bool
	}{
		{"OK", "", false},
		{strings.TrimSuffix(errLine("dial tcp: connection refused\nsecond line"), "\n"), "dial tcp: connection refused second line", true},
		{"HTTP/1.1 200 OK", "", true},
	} {
		err := parseReply(tt.line)
		var refused *RefusedError
		if (err != nil) != tt.fails || (tt.reason != "" && (!errors.As(err, &refused) || refused.Reason != tt.reason)) {
			t.Errorf("parseReply(%q) = %v", tt.line, err)
		}
	}
}

func TestReadLine(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      bool
	}{
		{"OK\n", "OK", false},
		{"OK\r\nmore", "OK", false},
		{"OK", "", true}, // cut short
		{"", "", true},
		{strings.Repeat("x", maxLine+1) + "\n", "", true},
	} {
		got, err := readLine(newLineReader(strings.NewReader(tt.in)))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("readLine(%.20q) = %q, %v", tt.in, got, err)
		}
	}
	if _, err := readLine(newLineReader(strings.NewReader("OK"))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a line without newline: %v, want unexpected EOF", err)
	}
}
