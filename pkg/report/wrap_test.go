package report

import (
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

func TestWrap(t *testing.T) {
	long := "[10.0.0.3] join nodes: failed: edgeadm join: host 10.0.0.3: run \"edgeadm join\": exit status 1: kubeadm: couldn't validate the identity of the API Server"
	tests := []struct {
		name  string
		line  string
		width int
		lines int
	}{
		{"fits", "[h] stage: changed", 80, 1},
		{"no terminal", long, 0, 1},
		{"long line", long, 40, 5},
		{"no spaces", strings.Repeat("x", 100), 30, 4},
		{"wide runes", strings.Repeat("界", 50), 30, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.line, tt.width)
			if len(got) != tt.lines {
				t.Errorf("%d lines, want %d: %q", len(got), tt.lines, got)
			}
			var joined []string
			for i, l := range got {
				if tt.width > 0 && runewidth.StringWidth(l) > tt.width {
					t.Errorf("line %d is %d columns, over %d: %q", i, runewidth.StringWidth(l), tt.width, l)
				}
				if i > 0 && !strings.HasPrefix(l, wrapIndent) {
					t.Errorf("continuation line %d not indented: %q", i, l)
				}
				joined = append(joined, strings.TrimPrefix(l, wrapIndent))
			}
			// Nothing is lost: the words come back (spaces at breaks aside).
			if strings.ReplaceAll(strings.Join(joined, ""), " ", "") != strings.ReplaceAll(tt.line, " ", "") {
				t.Errorf("text lost: %q", got)
			}
		})
	}
}
