package main

import (
	"bytes"
	"io"
	"sync"
)

// renameWriter rewrites "kubeadm join" to "edgeadm join" in kubeadm's
// output (the join commands init prints), a line at a time.
type renameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

var (
	kubeadmJoin = []byte("kubeadm join")
	edgeadmJoin = []byte("edgeadm join")
)

func (r *renameWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	i := bytes.LastIndexByte(r.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	line := bytes.ReplaceAll(r.buf[:i+1], kubeadmJoin, edgeadmJoin)
	r.buf = append(r.buf[:0], r.buf[i+1:]...)
	if _, err := r.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is left of an unfinished line.
func (r *renameWriter) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) > 0 {
		_, _ = r.w.Write(bytes.ReplaceAll(r.buf, kubeadmJoin, edgeadmJoin))
		r.buf = r.buf[:0]
	}
}
