package contract

import (
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	cases := []struct {
		in       string
		kind     SourceKind
		str      string // String()
		file     string // FileName()
		checksum bool
		secret   bool
		isURL    bool
	}{
		{"/var/lib/edgeops/packages/p.tar.gz", SourceLocal, "/var/lib/edgeops/packages/p.tar.gz", "p.tar.gz", false, false, false},
		{"pkg.tar.gz", SourceLocal, "pkg.tar.gz", "pkg.tar.gz", false, false, false},
		{"./odd:name.tar.gz", SourceLocal, "./odd:name.tar.gz", "odd:name.tar.gz", false, false, false},
		{"dir.x://y/p.tgz", SourceLocal, "dir.x://y/p.tgz", "p.tgz", false, false, false},
		{"file:///srv/p.tar.gz", SourceLocal, "/srv/p.tar.gz", "p.tar.gz", false, false, false},
		{"http://m:8080/p.tar.gz", SourceHTTP, "http://m:8080/p.tar.gz", "p.tar.gz", true, false, true},
		{"HTTP://m/p.tar.gz", SourceHTTP, "http://m/p.tar.gz", "p.tar.gz", true, false, true},
		{"https://m/b/p.tar.gz", SourceHTTPS, "https://m/b/p.tar.gz", "p.tar.gz", false, false, true},
		{"https://m/p.tar.gz?X-Amz-Signature=abc#frag", SourceHTTPS, "https://m/p.tar.gz?REDACTED", "p.tar.gz", false, true, true},
		{"https://m/?id=3", SourceHTTPS, "https://m/?REDACTED", "", false, true, true},
		{"https://u:hunter2@m/p.tgz", SourceHTTPS, "https://u:xxxxx@m/p.tgz", "p.tgz", false, true, true},
		{"ftp://10.0.0.5/pub/p.tar.gz", SourceFTP, "ftp://10.0.0.5/pub/p.tar.gz", "p.tar.gz", true, false, true},
		{"ftp://bob:s3cr%2Ft@ftp.example.com:2121/p.tar.gz", SourceFTP, "ftp://bob:xxxxx@ftp.example.com:2121/p.tar.gz", "p.tar.gz", true, true, true},
		{"ftp://anonymous@[fd00::5]/p.tar.gz", SourceFTP, "ftp://anonymous@[fd00::5]/p.tar.gz", "p.tar.gz", true, false, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			s, err := ParseSource(c.in)
			if err != nil {
				t.Fatalf("ParseSource: %v", err)
			}
			if s.Kind != c.kind || s.String() != c.str || s.FileName() != c.file ||
				s.NeedsChecksum() != c.checksum || s.HasSecret() != c.secret || s.IsURL() != c.isURL {
				t.Errorf("got kind %s, String %q, FileName %q, NeedsChecksum %v, HasSecret %v, IsURL %v",
					s.Kind, s.String(), s.FileName(), s.NeedsChecksum(), s.HasSecret(), s.IsURL())
			}
			for _, sec := range s.Secrets() {
				if strings.Contains(s.String(), sec) {
					t.Errorf("String() %q shows the secret %q", s.String(), sec)
				}
			}
		})
	}
}

func TestParseSourceErrors(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"", "empty package location"},
		{"   ", "empty package location"},
		{"sftp://h/p.tar.gz", `scheme "sftp" is not supported`},
		{"s3://bucket/p.tar.gz", "want a local file, an http://, https:// or ftp:// URL"},
		{"http:///p.tar.gz", "no host"},
		{"ftp://h/", "names no file"},
		{"ftp://h", "names no file"},
		{"ftp://h/p.tar.gz?x=1", "takes no query string"},
		{"file://otherhost/p.tar.gz", "names a local path"},
		{"https://u:hunter2@m:port/p", "not a valid URL"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := ParseSource(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseSource(%q) = %v, want an error with %q", c.in, err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
