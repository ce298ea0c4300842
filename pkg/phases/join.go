package phases

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/edgeops/edgeops/pkg/joininfo"
)

// joinInfoPhase gets join information for the hosts about to join: the file
// init just wrote, or fresh information minted on the leader (`edgeadm token
// create`, with a new certificate key when a master joins). Each joining host
// gets it as a root-only file, written from memory over SFTP: the secrets are
// never on a command line.
type joinInfoPhase struct{}

func (joinInfoPhase) Title() string { return "join info" }
func (joinInfoPhase) Hosts(s *State) []*Host {
	return withAction(s, func(_ *Host, a action) bool { return a.joins() })
}

func (p joinInfoPhase) Prepare(ctx context.Context, s *State) error {
	joining := p.Hosts(s)
	if len(joining) == 0 {
		return Skip("no host to join")
	}
	needKey := len(filter(joining, isMaster)) > 0
	if info := s.JoinInfo(); info != nil && !info.Expired(s.Now().Add(10*time.Minute)) && (!needKey || info.CertificateKey != "") {
		return nil
	}
	l := s.Leader()
	if l == nil || l.Failed() {
		return fmt.Errorf("the leader is not available to mint join information")
	}
	argv := []string{EdgeadmPath, "token", "create", "--join-info-file", joininfo.DefaultPath}
	if needKey {
		argv = append(argv, "--upload-certs")
	}
	var buf bytes.Buffer
	_, runErr := l.Remote.Run(ctx, command(argv...), &buf)
	info, readErr := readJoinInfo(ctx, l)
	if readErr == nil {
		s.SetJoinInfo(info)
	}
	emitLines(s, l.Addr(), "join info", buf.Bytes())
	if runErr != nil {
		return fmt.Errorf("edgeadm token create on %s: %w", l.Addr(), runErr)
	}
	if readErr != nil {
		return fmt.Errorf("on %s: %w", l.Addr(), readErr)
	}
	s.Report.Eventf(l.Addr(), "join info", "info", "minted fresh join information (expires %s)", info.TokenExpires.Format(time.RFC3339))
	return nil
}

func (joinInfoPhase) Run(ctx context.Context, s *State, h *Host) error {
	info := *s.JoinInfo()
	if !isMaster(h) {
		// The certificate key decrypts the cluster CA and etcd keys in
		// kubeadm-certs: only joining masters may hold it.
		info.CertificateKey = ""
	}
	data, err := info.Marshal()
	if err != nil {
		return err
	}
	if _, err := h.Remote.Run(ctx, "mkdir -p /etc/edgeadm && chmod 0700 /etc/edgeadm", nil); err != nil {
		return err
	}
	return h.Remote.UploadBytes(ctx, data, joininfo.DefaultPath, 0o600)
}

// joinPhase joins hosts with `edgeadm join`: masters one at a time (etcd
// grows one member at a time), edge and worker nodes in parallel.
type joinPhase struct{ masters bool }

// CleanUp deletes the bootstrap tokens the run minted and the join
// information the leader kept: once the run is over nothing needs them, and
// a token left valid for 24 h is a way into the cluster.
func (joinInfoPhase) CleanUp(ctx context.Context, s *State) {
	l := s.Leader()
	if l == nil || l.Remote == nil {
		return
	}
	tokens := s.MintedTokens()
	if s.JoinInfo() == nil && len(tokens) == 0 {
		return
	}
	cmd := "rm -f " + joininfo.DefaultPath
	if len(tokens) > 0 {
		// Token IDs are not secret (the part after the dot is).
		cmd = command(append([]string{EdgeadmPath, "token", "delete", "--kubeconfig", "/etc/kubernetes/admin.conf"}, tokens...)...) + "; " + cmd
	}
	if info := s.JoinInfo(); info != nil && info.CertificateKey != "" {
		// --upload-certs made a token with no usage whose expiry garbage-
		// collects kubeadm-certs (the encrypted CA and etcd keys): deleting it
		// now removes them at once instead of in two hours.
		cmd += "; " + certsTokenCleanup
	}
	if _, err := l.Remote.Run(ctx, cmd, nil); err != nil {
		s.Report.Eventf(l.Addr(), "join info", "warning", "could not delete this run's bootstrap tokens (%d): %v; delete them with `kubeadm token delete`", len(tokens), err)
	}
}

// certsTokenCleanup deletes the kubeadm-certs TTL tokens (and so, through
// their owner reference, the uploaded certificates); the tokens stay in the
// shell, never in output.
const certsTokenCleanup = EdgeadmPath + ` token list --kubeconfig /etc/kubernetes/admin.conf 2>/dev/null | awk '/kubeadm-certs/ {print $1}' | while read -r t; do ` +
	EdgeadmPath + ` token delete --kubeconfig /etc/kubernetes/admin.conf "$t" >/dev/null 2>&1; done; true`

func (p joinPhase) Title() string {
	if p.masters {
		return "join masters"
	}
	return "join nodes"
}
func (p joinPhase) Serial() bool { return p.masters }
func (p joinPhase) Hosts(s *State) []*Host {
	return withAction(s, func(h *Host, a action) bool { return a.joins() && isMaster(h) == p.masters })
}

// JoiningMarker says edgeops started a join on the host; the done marker
// replaces it when the join finished. A host found with it was interrupted,
// however far its kubelet got (decideAction rejoins it).
const JoiningMarker = StateDir + "/joining"

func (p joinPhase) Run(ctx context.Context, s *State, h *Host) error {
	status := "joined"
	if h.Action() == actRejoin {
		status = "rejoined"
	}
	if _, err := h.Remote.Run(ctx, "mkdir -p "+StateDir+" && touch "+JoiningMarker, nil); err != nil {
		return fmt.Errorf("mark the join as started: %w", err)
	}
	w := s.Report.Lines(h.Addr(), p.Title())
	err := runEdgeadm(ctx, s, h, p.Title(), joinArgs(s, h, h.Preinstalled()), w)
	w.Close()
	if err != nil {
		// Leave no token on a host that did not join (best effort: the host
		// may be gone); a re-run uploads fresh join information.
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = h.Remote.Run(rmCtx, "rm -f "+joininfo.DefaultPath+" "+packageURLFile, nil)
		return fmt.Errorf("edgeadm join: %w", err)
	}
	h.SetStatus(status, "", true)
	// The join information has done its job; the token should not linger.
	_, err = h.Remote.Run(ctx, "rm -f "+joininfo.DefaultPath+" "+packageURLFile+" "+JoiningMarker+" && touch "+DoneMarker, nil)
	return err
}

func (p joinPhase) DryRun(s *State, h *Host) string {
	// up's plan: the install phase runs before the join.
	return "edgeadm " + command(joinArgs(s, h, true)[1:]...)
}

// cleanPhase resets half-joined hosts (`edgeadm reset --force`) before they
// get their join information: the reset removes that file too.
type cleanPhase struct{}

func (cleanPhase) Title() string { return "reset half-joined" }
func (cleanPhase) Hosts(s *State) []*Host {
	return withAction(s, func(_ *Host, a action) bool { return a == actRejoin })
}

func (p cleanPhase) Run(ctx context.Context, s *State, h *Host) error {
	s.Report.Eventf(h.Addr(), p.Title(), "warning", "half-joined (kubeadm started, the join never finished): edgeadm reset --force, then join again")
	if err := runLogged(ctx, s, h, p.Title(), command(EdgeadmPath, "reset", "--force")); err != nil {
		return fmt.Errorf("edgeadm reset: %w", err)
	}
	// An interrupted join may have registered the node: kubeadm refuses to
	// join a name whose Node is still Ready, so the cluster forgets it first
	// (unless the leader makes a new cluster: in up's pipeline its init may
	// be under way right now).
	if l := s.Leader(); l != nil && l != h && !l.Failed() && l.Facts.AdminConf && !l.Action().inits() && h.NodeName() != "" {
		if _, err := l.Remote.Run(ctx, kubectlCmd("delete", "node", h.NodeName(), "--ignore-not-found", "--wait=false"), nil); err != nil {
			return fmt.Errorf("delete the half-joined node %s from the cluster: %w", h.NodeName(), err)
		}
	}
	h.SetStatus("reset", "", true)
	return nil
}

func (cleanPhase) DryRun(s *State, h *Host) string { return "edgeadm reset --force" }
