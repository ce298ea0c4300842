package contract

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// SourceKind is where an install package comes from.
type SourceKind string

// The kinds of --install-pkg-path (the seed: "Kube静态安装包地址/FTP路径").
const (
	SourceLocal SourceKind = "local" // a file on the host (also file:///path)
	SourceHTTP  SourceKind = "http"
	SourceHTTPS SourceKind = "https"
	SourceFTP   SourceKind = "ftp" // ftp://[user[:password]@]host[:port]/path, anonymous without user
)

// Source is a parsed --install-pkg-path value (or inventory
// cluster.installPackage path/url). Both programs use it, so edgeops and
// edgeadm agree on what is a URL and what must stay out of argv and logs.
type Source struct {
	Kind SourceKind
	// Path is the local file (SourceLocal).
	Path string
	// URL is the download address (the other kinds); it may hold a password
	// and a signed query: print it only through String.
	URL *url.URL
}

// ParseSource reads a package location. A value with "scheme://" is a URL
// and must be http, https, ftp or file; anything else is a local path.
func ParseSource(s string) (Source, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Source{}, errors.New("empty package location: want a local file, an http(s):// or an ftp:// URL")
	}
	scheme, _, isURL := strings.Cut(s, "://")
	if !isURL || strings.ContainsAny(scheme, "/.") {
		return Source{Kind: SourceLocal, Path: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		// url's error repeats the whole value, password included: don't.
		return Source{}, fmt.Errorf("package URL %s://…: not a valid URL", scheme)
	}
	src := Source{URL: u}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Source{}, fmt.Errorf("package URL %s: a file:// URL names a local path (file:///path), not host %q", src, u.Host)
		}
		return Source{Kind: SourceLocal, Path: u.Path}, nil
	case "http":
		src.Kind = SourceHTTP
	case "https":
		src.Kind = SourceHTTPS
	case "ftp":
		src.Kind = SourceFTP
		if u.RawQuery != "" {
			return Source{}, fmt.Errorf("package URL %s: an ftp:// URL takes no query string", src)
		}
	default:
		return Source{}, fmt.Errorf("package URL %s: scheme %q is not supported: want a local file, an http://, https:// or ftp:// URL", src, u.Scheme)
	}
	if u.Hostname() == "" {
		return Source{}, fmt.Errorf("package URL %s: no host", src)
	}
	if src.Kind == SourceFTP && (u.Path == "" || strings.HasSuffix(u.Path, "/")) {
		return Source{}, fmt.Errorf("package URL %s: names no file (want ftp://host[:port]/dir/package.tar.gz)", src)
	}
	return src, nil
}

// IsURL reports a package that is downloaded rather than read from disk.
func (s Source) IsURL() bool { return s.Kind != SourceLocal && s.URL != nil }

// NeedsChecksum reports a source whose content nothing vouches for: plain
// http and ftp have no TLS, so only an expected sha256 may let a package
// that runs as root onto a host.
func (s Source) NeedsChecksum() bool { return s.Kind == SourceHTTP || s.Kind == SourceFTP }

// HasSecret reports a URL carrying a credential (a password, or a query
// string such as a signed URL's signature): it must never be on a command
// line or in a log; edgeops passes it in a root-only file.
func (s Source) HasSecret() bool { return len(s.Secrets()) > 0 }

// Secrets lists the parts of the URL to redact from output.
func (s Source) Secrets() []string {
	if !s.IsURL() {
		return nil
	}
	var out []string
	if p, ok := s.URL.User.Password(); ok && p != "" {
		out = append(out, p, url.PathEscape(p), url.QueryEscape(p))
	}
	if s.URL.RawQuery != "" {
		out = append(out, s.URL.RawQuery)
	}
	return out
}

// FileName is the package's file name: the last element of the path or URL
// path (never the query), or "" when it names none.
func (s Source) FileName() string {
	p := s.Path
	if s.IsURL() {
		p = s.URL.Path
	}
	name := path.Base(p)
	if name == "/" || name == "." || name == ".." {
		return ""
	}
	return name
}

// String is the location as it may be printed: the password and the query
// string are replaced, the user name kept (it tells which account).
func (s Source) String() string {
	if !s.IsURL() {
		return s.Path
	}
	u := *s.URL
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.Redacted()
}
