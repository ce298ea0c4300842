package ssh

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Stream says which output a line came from.
type Stream int

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// Line is one line of remote output.
type Line struct {
	Host   string
	Stream Stream
	Text   string // without the trailing newline
}

// LineSink receives output lines as they arrive. It may be called from
// several goroutines (stdout and stderr, several hosts).
type LineSink func(Line)

// PrefixSink writes each line as "host: text" (stderr lines as
// "host! text") to w, one whole line per write, serialised.
func PrefixSink(w io.Writer) LineSink {
	var mu sync.Mutex
	return func(l Line) {
		sep := ": "
		if l.Stream == Stderr {
			sep = "! "
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s%s%s\n", l.Host, sep, l.Text)
	}
}

// lineWriter captures everything written and emits complete lines to sink.
type lineWriter struct {
	mu     sync.Mutex // a cancelled Run may give up on a session still writing
	host   string
	stream Stream
	sink   LineSink
	buf    bytes.Buffer // captured output
	part   []byte       // incomplete last line

	// stderr only: the first line may be the process-group marker.
	wantMarker bool
	markerDone bool
	head       []byte
	pgidCh     chan int
}

const pgidMarker = "edgeops-pgid:"

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.write(p)
}

func (w *lineWriter) write(p []byte) (int, error) {
	n := len(p)
	if w.wantMarker && !w.markerDone {
		// Lines may precede the marker (sudo's "unable to resolve host",
		// login shell noise): hold output back until it shows up.
		w.head = append(w.head, p...)
		p = w.takeMarker()
		if p == nil {
			return n, nil
		}
	}
	w.buf.Write(p)
	if w.sink == nil {
		return n, nil
	}
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		w.sink(Line{Host: w.host, Stream: w.stream, Text: strings.TrimSuffix(string(w.part[:i]), "\r")})
		w.part = w.part[i+1:]
	}
	return n, nil
}

// bytes returns a copy of what was captured.
func (w *lineWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// takeMarker looks for the marker line in head. It returns nil while
// waiting for more, else head without the marker line (and releases pgidCh).
func (w *lineWriter) takeMarker() []byte {
	idx := -1
	if bytes.HasPrefix(w.head, []byte(pgidMarker)) {
		idx = 0
	} else if i := bytes.Index(w.head, []byte("\n"+pgidMarker)); i >= 0 {
		idx = i + 1
	}
	var out []byte
	switch {
	case idx >= 0:
		end := bytes.IndexByte(w.head[idx:], '\n')
		if end < 0 {
			if len(w.head) < markerWindow {
				return nil
			}
			out = w.head
			break
		}
		if pg, err := strconv.Atoi(string(w.head[idx+len(pgidMarker) : idx+end])); err == nil {
			w.pgidCh <- pg
		}
		out = append(w.head[:idx:idx], w.head[idx+end+1:]...)
	case len(w.head) < markerWindow:
		return nil
	default:
		out = w.head
	}
	w.markerDone = true
	close(w.pgidCh)
	w.head = nil
	if out == nil {
		out = []byte{}
	}
	return out
}

// markerWindow bounds how much stderr is held back waiting for the marker.
const markerWindow = 8 << 10

// flush emits a trailing partial line and releases a pending marker.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wantMarker && !w.markerDone {
		w.markerDone = true
		close(w.pgidCh)
		head := w.head
		w.head = nil
		w.write(head)
	}
	if w.sink != nil && len(w.part) > 0 {
		w.sink(Line{Host: w.host, Stream: w.stream, Text: string(w.part)})
		w.part = nil
	}
}
