package report

import (
	"io"
	"os"
	"strings"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"
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

// WrapFor wraps line to the width of the terminal w is; a w that is not a
// terminal gets the line whole.
func WrapFor(w io.Writer, line string) []string {
	return wrap(line, terminalWidth(w))
}

// terminalWidth is the width of the terminal w is, or 0.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			return cols
		}
	}
	return 0
}
