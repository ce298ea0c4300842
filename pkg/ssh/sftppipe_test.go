package ssh

import (
	"encoding/binary"
	"fmt"
	"testing"
)

type recordWriter struct{ writes [][]byte }

func (r *recordWriter) Write(b []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), b...))
	return len(b), nil
}
func (r *recordWriter) Close() error { return nil }

func packet(n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(n-4))
	for i := 4; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

func TestPacketWriterJoinsHeaderAndData(t *testing.T) {
	write := packet(29 + 1000) // an SSH_FXP_WRITE: header then data
	stat := packet(40)         // a request sent whole
	tests := []struct {
		name   string
		writes [][]byte
		want   [][]byte
	}{
		{"header and data become one write", [][]byte{write[:29], write[29:]}, [][]byte{write}},
		{"whole packet passes through", [][]byte{stat}, [][]byte{stat}},
		{"data in several pieces", [][]byte{write[:29], write[29:500], write[500:]}, [][]byte{write}},
		{"packets in a row", [][]byte{stat, write[:29], write[29:], stat}, [][]byte{stat, write, stat}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordWriter{}
			pw := &packetWriter{w: rec}
			for _, w := range tt.writes {
				if n, err := pw.Write(w); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if fmt.Sprint(rec.writes) != fmt.Sprint(tt.want) {
				t.Fatalf("got %d writes, want %d", len(rec.writes), len(tt.want))
			}
		})
	}
}
