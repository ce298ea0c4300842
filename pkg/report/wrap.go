package report

import (
	"strings"

	"github.com/mattn/go-runewidth"
)

// wrapIndent starts every continuation line of a wrapped line.
const wrapIndent = "    "

// wrap cuts line into pieces no wider than width columns, at spaces where it
// can, each piece after the first indented. width <= 0 leaves it whole.
func wrap(line string, width int) []string {
	if width <= len(wrapIndent)+8 || runewidth.StringWidth(line) <= width {
		return []string{line}
	}
	var out []string
	rest, prefix := line, ""
	for {
		room := width - runewidth.StringWidth(prefix)
		if runewidth.StringWidth(rest) <= room {
			return append(out, prefix+rest)
		}
		head := runewidth.Truncate(rest, room, "")
		if i := strings.LastIndexByte(head, ' '); i > room/2 {
			head = head[:i] // break at a space in the second half
		}
		out = append(out, prefix+head)
		rest = strings.TrimLeft(rest[len(head):], " ")
		prefix = wrapIndent
	}
}
