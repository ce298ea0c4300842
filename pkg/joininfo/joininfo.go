// Package joininfo is the contract between edgeadm (which writes the join
// information after init, or mints it later with `edgeadm token create
// --join-info-file`) and edgeops (which reads it over SFTP and hands it to
// joining hosts as a root-only file). It holds secrets, so every way of
// printing it redacts them.
package joininfo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

// DefaultPath is where edgeadm writes, and reads, the join information.
const DefaultPath = contract.JoinInfoFile

// Info is what a host needs to join the cluster.
type Info struct {
	// APIServerEndpoint is host:port of the API server (the VIP in HA).
	APIServerEndpoint string `json:"apiServerEndpoint"`
	// Token is a kubeadm bootstrap token ("abcdef.0123456789abcdef"). Secret.
	Token string `json:"token"`
	// CACertHashes pins the cluster CA ("sha256:<hex>").
	CACertHashes []string `json:"caCertHashes"`
	// CertificateKey decrypts the uploaded control-plane certificates
	// (kubeadm --certificate-key). Secret; empty when no certs were uploaded.
	CertificateKey string `json:"certificateKey,omitempty"`
	// TokenExpires is when Token stops working (zero: never).
	TokenExpires time.Time `json:"tokenExpires,omitempty"`
	// KubernetesVersion of the cluster that minted this information.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
}

// Validate reports what is missing or malformed, without echoing secrets.
func (i Info) Validate() error {
	var errs []error
	if i.APIServerEndpoint == "" {
		errs = append(errs, errors.New("apiServerEndpoint is empty"))
	}
	if parts := strings.Split(i.Token, "."); len(parts) != 2 || len(parts[0]) != 6 || len(parts[1]) != 16 {
		errs = append(errs, errors.New("token is not a kubeadm bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})"))
	}
	if len(i.CACertHashes) == 0 {
		errs = append(errs, errors.New("caCertHashes is empty"))
	}
	for n, h := range i.CACertHashes {
		if !strings.HasPrefix(h, "sha256:") {
			errs = append(errs, fmt.Errorf("caCertHashes[%d] does not start with sha256:", n))
		}
	}
	return errors.Join(errs...)
}

// Expired reports whether the token has expired at time now.
func (i Info) Expired(now time.Time) bool {
	return !i.TokenExpires.IsZero() && !now.Before(i.TokenExpires)
}

// Secrets returns the secret values, for redacting them from any output.
func (i Info) Secrets() []string {
	var s []string
	if i.Token != "" {
		s = append(s, i.Token)
		// The token secret alone is also sensitive.
		if _, secret, ok := strings.Cut(i.Token, "."); ok {
			s = append(s, secret)
		}
	}
	if i.CertificateKey != "" {
		s = append(s, i.CertificateKey)
	}
	return s
}

// String redacts the secrets, so %v, %s and %+v never leak them.
func (i Info) String() string {
	return fmt.Sprintf("joininfo{endpoint=%s token=<redacted> caCertHashes=%v certificateKey=%s expires=%s}",
		i.APIServerEndpoint, i.CACertHashes, redacted(i.CertificateKey), i.TokenExpires.Format(time.RFC3339))
}

// GoString redacts the secrets for %#v.
func (i Info) GoString() string { return i.String() }

func redacted(s string) string {
	if s == "" {
		return "<none>"
	}
	return "<redacted>"
}

// Marshal encodes the information as the JSON file edgeadm writes.
func (i Info) Marshal() ([]byte, error) {
	return json.MarshalIndent(i, "", "  ")
}

// Parse decodes and validates a join information file's contents.
func Parse(data []byte) (Info, error) {
	var i Info
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&i); err != nil {
		return Info{}, fmt.Errorf("join information: %w", err)
	}
	if err := i.Validate(); err != nil {
		return Info{}, fmt.Errorf("join information: %w", err)
	}
	return i, nil
}

// WriteFile writes the information root-only (0600, directory 0700),
// atomically: a reader never sees half a file.
func WriteFile(path string, i Info) error {
	data, err := i.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write join information: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".join-info-*")
	if err != nil {
		return fmt.Errorf("write join information: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write join information: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write join information: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write join information: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write join information: %w", err)
	}
	return nil
}

// ReadFile reads and validates a join information file.
func ReadFile(path string) (Info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, fmt.Errorf("read join information: %w", err)
	}
	i, err := Parse(data)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", path, err)
	}
	return i, nil
}
