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
	n := len(p)
	if w.wantMarker && !w.markerDone {
		w.head = append(w.head, p...)
		i := bytes.IndexByte(w.head, '\n')
		if i < 0 && len(w.head) < 64 {
			return n, nil
		}
		w.markerDone = true
		p = w.head
		w.head = nil
		if i >= 0 && bytes.HasPrefix(p, []byte(pgidMarker)) {
			if pg, err := strconv.Atoi(strings.TrimSpace(string(p[len(pgidMarker):i]))); err == nil {
				w.pgidCh <- pg
			}
			p = p[i+1:]
		}
		close(w.pgidCh)
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

// flush emits a trailing partial line and releases a pending marker.
func (w *lineWriter) flush() {
	if w.wantMarker && !w.markerDone {
		w.markerDone = true
		close(w.pgidCh)
		w.buf.Write(w.head)
		if w.sink != nil {
			w.part = append(w.part, w.head...)
		}
		w.head = nil
	}
	if w.sink != nil && len(w.part) > 0 {
		w.sink(Line{Host: w.host, Stream: w.stream, Text: string(w.part)})
		w.part = nil
	}
}
