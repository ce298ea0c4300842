package tunnel

import (
	"io"
	"net"
	"strconv"
	"testing"
)

// The benchmarks compare a connection through the tunnel (egress socket →
// server → TLS+yamux → agent → target) with a direct TCP connection to the
// same loopback target.

func BenchmarkRelayThroughput(b *testing.B) {
	srv, _ := relaySetup(b)
	sink := startTCP(b, countAfterEOF)
	dials := []struct {
		name string
		dial func(testing.TB) net.Conn
	}{
		{"tunnel", func(tb testing.TB) net.Conn { return mustConnect(tb, srv.sock, sink) }},
		{"direct", func(tb testing.TB) net.Conn {
			c, err := net.Dial("tcp", sink)
			if err != nil {
				tb.Fatal(err)
			}
			return c
		}},
	}
	for _, d := range dials {
		b.Run(d.name, func(b *testing.B) {
			chunk := make([]byte, 64<<10)
			b.SetBytes(int64(len(chunk)))
			c := d.dial(b)
			defer c.Close()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
			// the sink answers with its count once it has read everything
			if err := closeWrite(c); err != nil {
				b.Fatal(err)
			}
			got, err := io.ReadAll(c)
			b.StopTimer()
			if err != nil || string(got) != strconv.Itoa(b.N*len(chunk)) {
				b.Fatalf("sink read %q bytes (%v), sent %d", got, err, b.N*len(chunk))
			}
		})
	}
}

func BenchmarkConnectLatency(b *testing.B) {
	srv, _ := relaySetup(b)
	target := startTCP(b, echo)
	dials := []struct {
		name string
		dial func(testing.TB) net.Conn
	}{
		{"tunnel", func(tb testing.TB) net.Conn { return mustConnect(tb, srv.sock, target) }},
		{"direct", func(tb testing.TB) net.Conn {
			c, err := net.Dial("tcp", target)
			if err != nil {
				tb.Fatal(err)
			}
			return c
		}},
	}
	for _, d := range dials {
		b.Run(d.name, func(b *testing.B) {
			buf := make([]byte, 1)
			for b.Loop() {
				// connection set up, then the first byte there and back
				c := d.dial(b)
				if _, err := c.Write([]byte{'x'}); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
