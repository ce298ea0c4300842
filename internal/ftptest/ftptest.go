// Package ftptest runs a real FTP server (goftp.io/server/v2) in a test
// process, serving one folder read-only, for the tests of edgeadm's FTP
// package source.
package ftptest

import (
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"testing"

	"goftp.io/server/v2"
	"goftp.io/server/v2/driver/file"
)

// auth takes anonymous (any password) and, when set, one named user.
type auth struct{ user, pass string }

func (a auth) CheckPasswd(_ *server.Context, name, pass string) (bool, error) {
	if name == "anonymous" || name == "ftp" {
		return true, nil
	}
	return a.user != "" && subtle.ConstantTimeCompare([]byte(name), []byte(a.user)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(a.pass)) == 1, nil
}

// readOnly refuses every change: the tests only download.
type readOnly struct{ server.Driver }

var errReadOnly = errors.New("read-only")

func (readOnly) DeleteDir(*server.Context, string) error      { return errReadOnly }
func (readOnly) DeleteFile(*server.Context, string) error     { return errReadOnly }
func (readOnly) Rename(*server.Context, string, string) error { return errReadOnly }
func (readOnly) MakeDir(*server.Context, string) error        { return errReadOnly }
func (readOnly) PutFile(*server.Context, string, io.Reader, int64) (int64, error) {
	return 0, errReadOnly
}

// quiet drops the server's per-command log.
type quiet struct{}

func (quiet) Print(string, interface{})             {}
func (quiet) Printf(string, string, ...interface{}) {}
func (quiet) PrintCommand(string, string, string)   {}
func (quiet) PrintResponse(string, int, string)     {}

// Options tune the server.
type Options struct {
	// User and Password, when set, are accepted besides anonymous.
	User, Password string
	// RateLimit caps each connection in bytes per second (0: none).
	RateLimit int64
}

// Start serves dir on addr ("127.0.0.1:0", or a lab gateway "172.28.22.1:0")
// in passive mode until the test ends, and returns the address it listens on.
func Start(t testing.TB, addr, dir string, o Options) string {
	t.Helper()
	drv, err := file.NewDriver(dir)
	if err != nil {
		t.Fatalf("ftp driver: %v", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("ftp listen on %s: %v", addr, err)
	}
	s, err := server.NewServer(&server.Options{
		Driver: readOnly{drv}, Auth: auth{o.User, o.Password}, Perm: server.NewSimplePerm("root", "root"),
		Logger: quiet{}, RateLimit: o.RateLimit,
	})
	if err != nil {
		l.Close()
		t.Fatalf("ftp server: %v", err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown() })
	return l.Addr().String()
}
