// Command lab-netem delays and drops the packets an iptables NFQUEUE rule
// hands it, for `scripts/lab slow` on kernels built without the netem qdisc
// (the lab machines' kernel has no CONFIG_NET_SCH_NETEM). The lab runs it in a
// lab host's network namespace; the host's rule uses --queue-bypass, so
// packets flow undelayed when it is not running. Bandwidth is left to tc's
// tbf qdisc, which the kernel has.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	queue  uint
	delay  time.Duration
	jitter time.Duration
	loss   float64 // percent
	maxLen uint
}

func main() {
	var o options
	flag.UintVar(&o.queue, "queue", 4242, "NFQUEUE number to bind")
	flag.DurationVar(&o.delay, "delay", 80*time.Millisecond, "delay added to every packet")
	flag.DurationVar(&o.jitter, "jitter", 0, "uniform random extra delay, 0..jitter")
	flag.Float64Var(&o.loss, "loss", 0, "percent of packets dropped")
	flag.UintVar(&o.maxLen, "max-queue", 8192, "packets held at most (more are accepted undelayed)")
	flag.Parse()
	if o.queue > 65535 || o.loss < 0 || o.loss > 100 || o.delay < 0 || o.jitter < 0 {
		fmt.Fprintln(os.Stderr, "lab-netem: -queue must be 0-65535, -loss 0-100, -delay and -jitter >= 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "lab-netem: %v\n", err)
		os.Exit(1)
	}
}

type held struct {
	id  uint32
	due time.Time
}

func run(ctx context.Context, o options) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_NETFILTER)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink bind: %w", err)
	}
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 16<<20)
	_ = syscall.SetsockoptInt(fd, solNetlink, noENOBUFS, 1)
	queue := uint16(o.queue)
	if err := configure(fd, queue, uint32(o.maxLen)); err != nil {
		return fmt.Errorf("bind queue %d: %w", queue, err)
	}
	fmt.Fprintf(os.Stderr, "lab-netem: queue %d: delay %v jitter %v loss %.2f%%\n", queue, o.delay, o.jitter, o.loss)

	// The delay is the same for every packet (jitter aside), so a FIFO keeps
	// them in due order; one goroutine releases them.
	pending := make(chan held, o.maxLen)
	errc := make(chan error, 1)
	go func() { errc <- release(ctx, fd, queue, pending) }()
	// A receive timeout lets the loop notice ctx; the kernel unbinds the queue
	// when the socket closes.
	tv := syscall.NsecToTimeval(int64(300 * time.Millisecond))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("receive timeout: %w", err)
	}

	buf := make([]byte, 1<<16)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		msgs, err := parseMessages(buf[:n])
		if err != nil {
			return err
		}
		now := time.Now()
		for _, m := range msgs {
			if !m.isPacket {
				continue
			}
			if o.loss > 0 && rand.Float64()*100 < o.loss {
				if err := send(fd, verdictMessage(queue, m.packetID, verdictDrop)); err != nil {
					return err
				}
				continue
			}
			d := o.delay
			if o.jitter > 0 {
				d += rand.N(o.jitter)
			}
			select {
			case pending <- held{id: m.packetID, due: now.Add(d)}:
			default: // full: let it through rather than stall the host
				if err := send(fd, verdictMessage(queue, m.packetID, verdictAccept)); err != nil {
					return err
				}
			}
		}
		select {
		case err := <-errc:
			return err
		default:
		}
	}
}

func release(ctx context.Context, fd int, queue uint16, pending <-chan held) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-pending:
			if wait := time.Until(p.due); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			}
			if err := send(fd, verdictMessage(queue, p.id, verdictAccept)); err != nil {
				return err
			}
		}
	}
}

func send(fd int, msg []byte) error {
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("send verdict: %w", err)
	}
	return nil
}

// configure sends the config messages and waits for each one's ACK.
func configure(fd int, queue uint16, maxLen uint32) error {
	buf := make([]byte, 1<<16)
	for _, msg := range configMessages(queue, maxLen) {
		if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return err
		}
		for acked := false; !acked; {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				return err
			}
			msgs, err := parseMessages(buf[:n])
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if m.isError {
					if m.errno != 0 {
						return syscall.Errno(-m.errno)
					}
					acked = true
				}
			}
		}
	}
	return nil
}
