package ssh

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// newSFTP starts the sftp subsystem on its own session, with a writer that
// sends each SFTP request in one write. pkg/sftp writes a request's header
// and its data separately, which costs an extra SSH packet (and syscall, and
// MAC on both ends) per write request; with sftpPacket sized so a whole
// request fits one 32 KiB channel packet, an upload needs half the packets.
func newSFTP(cl *gossh.Client, opts ...sftp.ClientOption) (*sftp.Client, error) {
	s, err := cl.NewSession()
	if err != nil {
		return nil, err
	}
	pw, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	pr, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		s.Close()
		return nil, fmt.Errorf("request sftp subsystem: %w", err)
	}
	return sftp.NewClientPipe(pr, &packetWriter{w: pw, s: s}, opts...)
}

// packetWriter joins the pieces of one SFTP packet (length-prefixed) into a
// single write. pkg/sftp sends packets one at a time under its lock.
type packetWriter struct {
	w    io.WriteCloser
	s    *gossh.Session
	buf  []byte
	need int // bytes of the pending packet; 0 when none is pending
}

func (p *packetWriter) Write(b []byte) (int, error) {
	if p.need == 0 {
		if len(b) < 4 {
			return p.w.Write(b)
		}
		total := int(binary.BigEndian.Uint32(b[:4])) + 4
		if total <= len(b) || total > 1<<20 {
			return p.w.Write(b)
		}
		p.need, p.buf = total, append(p.buf[:0], b...)
		return len(b), nil
	}
	p.buf = append(p.buf, b...)
	if len(p.buf) < p.need {
		return len(b), nil
	}
	p.need = 0
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *packetWriter) Close() error {
	err := p.w.Close()
	p.s.Close()
	return err
}
