package phases

import (
	"context"
	"io"
	"os"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/ssh"
)

// sshRemote is a Remote over pkg/ssh: every command and root-owned file
// goes through sudo when the user is not root.
type sshRemote struct{ c *ssh.Client }

// SSHDialer dials inventory hosts with pkg/ssh. The SSH and sudo passwords it
// may use are registered with addSecret so no output can show them.
func SSHDialer(inv *inventory.Inventory, addSecret func(...string)) Dialer {
	return func(ctx context.Context, h *inventory.Host) (Remote, error) {
		sc := inv.SSHConfig(h)
		for _, ref := range secretRefs(sc) {
			if ref.IsSet() {
				if v, err := ref.Resolve(); err == nil {
					addSecret(v)
				}
			}
		}
		cfg := toSSHConfig(sc)
		cfg.Name = h.Address
		c, err := ssh.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return sshRemote{c}, nil
	}
}

// secretRefs are the passwords a connection may use: the host's SSH and sudo
// passwords and every bastion's on the way.
func secretRefs(sc inventory.SSHConfig) []inventory.SecretRef {
	refs := []inventory.SecretRef{sc.Password, sc.SudoPassword}
	for _, j := range sc.Jumps {
		refs = append(refs, j.Password, j.SudoPassword)
	}
	return refs
}

func toSSHConfig(sc inventory.SSHConfig) ssh.Config {
	cfg := ssh.Config{
		Address:       sc.Address,
		Port:          sc.Port,
		User:          sc.User,
		IdentityFiles: sc.IdentityFiles,
		UseAgent:      sc.UseAgent,
		Password:      ssh.Secret{Env: sc.Password.Env, File: sc.Password.File},
		HostKeyPolicy: ssh.HostKeyPolicy(sc.HostKeyPolicy),
		Sudo:          ssh.SudoConfig{Password: ssh.Secret{Env: sc.SudoPassword.Env, File: sc.SudoPassword.File}},
	}
	cfg.KeyboardInteractive = cfg.Password.IsSet()
	if sc.KnownHosts != "" {
		cfg.KnownHostsFiles = []string{sc.KnownHosts}
	}
	for _, j := range sc.Jumps {
		jc := toSSHConfig(j)
		jc.Name = j.Address
		cfg.Bastions = append(cfg.Bastions, jc)
	}
	return cfg
}

func (r sshRemote) Run(ctx context.Context, cmd string, out io.Writer) ([]byte, error) {
	opts := []ssh.RunOption{ssh.WithSudo()}
	if out != nil {
		opts = append(opts, ssh.WithSink(func(l ssh.Line) { io.WriteString(out, l.Text+"\n") }))
	}
	res, err := r.c.Run(ctx, cmd, opts...)
	if res == nil {
		return nil, err
	}
	return res.Stdout, err
}

func (r sshRemote) RunSplit(ctx context.Context, cmd string, stdout func(string), out io.Writer) error {
	_, err := r.c.Run(ctx, cmd, ssh.WithSudo(), ssh.WithSink(func(l ssh.Line) {
		switch {
		case l.Stream == ssh.Stdout:
			stdout(l.Text)
		case out != nil:
			io.WriteString(out, l.Text+"\n")
		}
	}))
	return err
}

func (r sshRemote) Upload(ctx context.Context, local, path string, mode os.FileMode, progress func(done, total int64)) (bool, error) {
	res, err := r.c.Upload(ctx, local, path, mode, ssh.UploadOptions{Sudo: true, Progress: progress})
	if err != nil {
		return false, err
	}
	return res.Skipped, nil
}

func (r sshRemote) UploadBytes(ctx context.Context, data []byte, path string, mode os.FileMode) error {
	_, err := r.c.UploadBytes(ctx, data, path, mode, ssh.UploadOptions{Sudo: true})
	return err
}

func (r sshRemote) Download(ctx context.Context, path string) ([]byte, error) {
	return r.c.Download(ctx, path, true)
}

func (r sshRemote) Close() error { return r.c.Close() }
