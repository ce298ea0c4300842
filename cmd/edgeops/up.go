package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/phases"
	"github.com/edgeops/edgeops/pkg/report"
)

// runFlags are the orchestration flags shared by up and add-node.
type runFlags struct {
	edgeadm      string
	readyTimeout time.Duration
	apiWait      time.Duration
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.edgeadm, "edgeadm-binary", "", "edgeadm to stage on the hosts (default: the edgeadm beside the edgeops binary, else bin/edgeadm from the install package)")
	cmd.Flags().DurationVar(&f.readyTimeout, "ready-timeout", 5*time.Minute, "how long to wait for every node to be Ready")
	cmd.Flags().DurationVar(&f.apiWait, "api-wait", 2*time.Minute, "how long to retry a leader's API server that does not answer before giving up (nothing is ever reset for it)")
}

func newUpCmd(g *globalOptions) *cobra.Command {
	var invPath string
	var rf runFlags
	var skip []string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create or complete the cluster described by the inventory",
		Long: `up validates the inventory, connects to every host, stages edgeadm and the
install package, initialises the leader, joins the other masters one at a
time and the edge/worker hosts in parallel batches, and fetches the admin
kubeconfig (<cluster name>.kubeconfig beside the inventory, mode 0600).
A re-run on a healthy cluster changes nothing; a re-run after a failure
finishes what is left (a host half-joined to this cluster is reset and
joined again; a leader whose init was interrupted gets its last phases).
up never resets a control plane, nor a host of another cluster: it stops
and names the host; ` + "`edgeops reset --host ADDR`" + ` is the explicit way to wipe one.
A log of the whole run, secrets redacted, goes to edgeops-logs/ beside the inventory.

` + phaseHelp("up", phases.UpPhases()),
		Example: `  edgeops up -i hosts.yaml
  edgeops up -i examples/ha.yaml --concurrency 20 --timeout 45m
  edgeops up -i hosts.yaml --output json > up.jsonl
  edgeops up phase stage -i hosts.yaml        # pre-stage the fleet now...
  edgeops up --skip-phases stage -i hosts.yaml # ...and bring it up later`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd, g, invPath, &rf, phases.Selection{Skip: skip})
		},
	}
	addInventoryFlag(cmd, &invPath)
	rf.add(cmd)
	addSkipPhasesFlag(cmd, &skip, phases.UpPhases())
	cmd.AddCommand(newPhaseCmd(g, "up", phases.UpPhases(), runUp))
	return cmd
}

// runUp runs up's phases, all of them or those sel picks.
func runUp(cmd *cobra.Command, g *globalOptions, invPath string, rf *runFlags, sel phases.Selection) error {
	list, err := selectPhases(phases.UpPhases(), sel)
	if err != nil {
		return err
	}
	inv, err := loadInventoryToInstall(g, invPath)
	if err != nil {
		return err
	}
	logSummary(g, cmd.ErrOrStderr(), inv)
	ctx, cancel := g.runContext(cmd.Context())
	defer cancel()
	env, err := newRunEnv(ctx, g, inv, "up", rf)
	if err != nil {
		return err
	}
	defer env.close()
	s := phases.NewState(env.cfg, inv.Hosts)
	err = phases.Run(ctx, s, list)
	rows := phases.Rows(s, "failed")
	if sel.Partial() {
		rows = partialRows(s, list, rows, err)
	}
	return env.finish(s, "up", rows, err, func() {
		if sel.Partial() {
			reportPartial(env, s, list, "up", inv.File)
			return
		}
		if phases.Unchanged(s) {
			env.rep.Eventf("", "", report.EventInfo, "nothing to do: every host is already as the inventory says; no host was changed")
		}
		env.rep.Eventf("", "", report.EventInfo, "kubeconfig: %s (kubectl --kubeconfig %s get nodes)", env.cfg.Kubeconfig, env.cfg.Kubeconfig)
	})
}

// runEnv is what every orchestrating command sets up: the reporter, the run
// log and the phases' configuration.
type runEnv struct {
	rep     *report.Reporter
	log     *os.File
	logPath string
	cfg     phases.Config
	tmp     string // a temporary edgeadm read out of the package
	start   time.Time
}

// newRunEnv opens the run log and resolves the package and edgeadm. rf is
// nil for commands that stage nothing (reset, plan, kubeconfig).
func newRunEnv(ctx context.Context, g *globalOptions, inv *inventory.Inventory, command string, rf *runFlags) (*runEnv, error) {
	env := &runEnv{start: time.Now()}
	dir := filepath.Dir(inv.File)
	f, path, err := report.OpenLog(filepath.Join(dir, "edgeops-logs"), command, env.start)
	if err != nil {
		return nil, err
	}
	env.log, env.logPath = f, path
	env.rep = report.New(report.Options{
		Out: g.stdout, JSON: g.JSON(), Verbose: g.Verbose > 0, Log: f,
		Live: !g.JSON() && report.IsTerminal(g.stdout),
	})
	env.rep.Eventf("", "", report.EventInfo, "edgeops %s: run log %s", command, path)
	for _, w := range inv.Warnings() {
		env.rep.Eventf("", "", report.EventWarning, "%s: %s", inv.File, w)
	}
	env.cfg = phases.Config{
		Inventory:     inv,
		Package:       inv.Cluster.InstallPackage.Source(),
		PackageSHA256: inv.Cluster.InstallPackage.SHA256,
		Kubeconfig:    kubeconfigPath(inv),
		Concurrency:   inv.Concurrency.Limit,
		Dial:          phases.SSHDialer(inv, env.rep.AddSecrets),
		Report:        env.rep,
		RunID:         phases.NewRunID(),
	}
	// A signed package URL's query (?X-Amz-Signature=…) or a password in it
	// is a credential: no output or log of this run shows it.
	if src, err := contract.ParseSource(env.cfg.Package); err == nil {
		env.rep.AddSecrets(src.Secrets()...)
	}
	if rf != nil {
		env.cfg.ReadyTimeout = rf.readyTimeout
		env.cfg.APIWait = rf.apiWait
		bin, tmp, err := edgeadmBinary(ctx, rf.edgeadm, env.cfg.Package)
		if err != nil {
			env.close()
			return nil, usageError(err)
		}
		env.cfg.EdgeadmBinary, env.tmp = bin, tmp
	}
	return env, nil
}

// edgeadmBinary picks the edgeadm to stage: the flag, else the edgeadm next
// to this edgeops binary (make build puts both in _output/), else
// bin/edgeadm out of the local package (written to a temporary file,
// returned as tmp for removal). Never the working directory: a run from an
// unrelated checkout must not push whatever binary lies there, as root, to
// every host.
func edgeadmBinary(ctx context.Context, flag, pkg string) (bin, tmp string, err error) {
	if flag != "" {
		if _, err := os.Stat(flag); err != nil {
			return "", "", fmt.Errorf("--edgeadm-binary: %w", err)
		}
		return flag, "", nil
	}
	if beside := besideExecutable("edgeadm"); beside != "" {
		return beside, "", nil
	}
	if src, err := contract.ParseSource(pkg); err != nil || src.IsURL() {
		return "", "", errors.New("no edgeadm to stage: build it (make build) or pass --edgeadm-binary PATH")
	}
	data, err := bundle.ReadFile(ctx, pkg, "bin/edgeadm")
	if err != nil {
		return "", "", fmt.Errorf("no edgeadm to stage (none beside edgeops, and the package has none: %w); pass --edgeadm-binary PATH", err)
	}
	f, err := os.CreateTemp("", "edgeadm-*")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	if err := f.Chmod(0o755); err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), f.Name(), nil
}

// besideExecutable is the path of name in the running binary's directory
// (symlinks resolved), or "" when there is no regular file there.
func besideExecutable(name string) string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), name)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return p
}

// finish prints the summary and the phase timings, and turns the run's error
// into the command's (redacted: the message reaches stderr).
func (env *runEnv) finish(s *phases.State, title string, rows []report.Row, err error, onSuccess func()) error {
	env.rep.Summary(title, rows)
	env.rep.Eventf("", "", report.EventInfo, "%s took %s (%s)", title, time.Since(env.start).Round(100*time.Millisecond), phases.TimingSummary(s))
	if err == nil && onSuccess != nil {
		onSuccess()
	}
	if err != nil {
		env.rep.Emit(report.Event{Phase: title, Event: report.EventFailed, Error: err.Error()})
		env.rep.Eventf("", "", report.EventInfo, "run log: %s", env.logPath)
		return &redactedError{msg: env.rep.Redact(err.Error()), err: err}
	}
	return nil
}

func (env *runEnv) close() {
	env.rep.Close()
	env.log.Close()
	if env.tmp != "" {
		os.Remove(env.tmp)
	}
}

// redactedError shows a redacted message but keeps the chain for exit codes.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
