package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/exitcode"
	"github.com/edgeops/edgeops/pkg/phases"
	"github.com/edgeops/edgeops/pkg/report"
)

func newStatusCmd(g *globalOptions) *cobra.Command {
	var invPath string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each host's health: reachable, node Ready, versions, edge components, lock, cluster",
		Long: `status connects to every host and reports, per host: whether SSH reaches it,
its role, its Node's readiness (asked from the leader's API server), the
kubelet and containerd versions, the edge components its role needs
(edge-proxy and the edge-tunnel agent on edge nodes, the edge-tunnel server
on masters, edge-vip on masters when the inventory has cluster.vip; none
with enableEdge: false) by their systemd unit and their local /status, another
run's lock on the host, and whether the host belongs to this cluster (the
leader's CA), has no Kubernetes, or belongs to another cluster.
It changes nothing and takes no lock. Exit status 0 only when every host is
well; otherwise 3 (some hosts are well) or 1 (none is), and each problem is
named with its host and what to do.`,
		Example: `  edgeops status -i hosts.yaml
  edgeops status -i hosts.yaml --output json | jq 'select(.event=="status") | .health'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			ctx, cancel := g.runContext(cmd.Context())
			defer cancel()
			env, err := newRunEnv(ctx, g, inv, "status", nil)
			if err != nil {
				return err
			}
			defer env.close()
			s := phases.NewState(env.cfg, inv.Hosts)
			list := phases.StatusPhases()
			runErr := phases.Run(ctx, s, list)
			if ctx.Err() != nil && runErr != nil {
				// Interrupted or --timeout: what was read is incomplete.
				return &redactedError{msg: env.rep.Redact(runErr.Error()), err: runErr}
			}
			health := phases.Status(s, list)
			env.rep.Eventf("", "", report.EventInfo, "status took %s (%s)", time.Since(env.start).Round(100*time.Millisecond), phases.TimingSummary(s))
			// The live view goes before the table: nothing is emitted after it.
			env.rep.Close()
			var out bytes.Buffer
			if g.JSON() {
				writeStatusJSON(&out, health, time.Now())
			} else {
				writeStatusTable(&out, health)
			}
			text := env.rep.Redact(out.String())
			io.WriteString(env.log, text)
			if _, err := io.WriteString(g.stdout, text); err != nil {
				return err
			}
			return statusError(health)
		},
	}
	addInventoryFlag(cmd, &invPath)
	return cmd
}

// statusEvent is status's per-host JSON line: the usual event fields and
// the host's Health under "health" (not "status": the final error line
// already has a string of that name).
type statusEvent struct {
	Time    time.Time     `json:"time"`
	Host    string        `json:"host"`
	Phase   string        `json:"phase"`
	Event   string        `json:"event"`
	Message string        `json:"message"`
	Health  phases.Health `json:"health"`
}

func writeStatusJSON(w io.Writer, health []phases.Health, now time.Time) {
	enc := json.NewEncoder(w)
	for _, h := range health {
		msg := "ok"
		if !h.OK {
			msg = problemList(h)
		}
		_ = enc.Encode(statusEvent{Time: now, Host: h.Host, Phase: "status", Event: "status", Message: msg, Health: h})
	}
}

func problemList(h phases.Health) string {
	parts := make([]string, len(h.Problems))
	for i, p := range h.Problems {
		parts[i] = p.Component + ": " + p.Message
	}
	return strings.Join(parts, "; ")
}

// writeStatusTable prints the per-host table (the style of the other
// commands' summaries), then every problem with its fix.
func writeStatusTable(w io.Writer, health []phases.Health) {
	fmt.Fprintf(w, "\nstatus\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tNAME\tROLE\tSSH\tCLUSTER\tNODE\tKUBELET\tCONTAINERD\tEDGE\tLOCK\tHEALTH")
	for _, h := range health {
		ssh := "ok"
		if !h.Reachable {
			ssh = "unreachable"
		}
		verdict := "ok"
		if !h.OK {
			verdict = fmt.Sprintf("%d problem(s)", len(h.Problems))
		}
		role := h.Role
		if h.Leader {
			role += "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, dash(h.Name), role, ssh, h.Cluster, h.Node,
			unitColumn(h, "kubelet", h.KubeletVersion), unitColumn(h, "containerd", h.ContainerdVersion),
			edgeColumn(h), lockColumn(h), verdict)
	}
	tw.Flush()
	fmt.Fprintln(w, "(* the leader: its API server and CA are the cluster's)")
	bad := 0
	for _, h := range health {
		if h.OK {
			continue
		}
		if bad == 0 {
			fmt.Fprintln(w, "\nproblems:")
		}
		bad++
		for _, p := range h.Problems {
			fmt.Fprintf(w, "  %s %s: %s\n      fix: %s\n", h.Host, p.Component, p.Message, p.Fix)
		}
	}
	if bad == 0 {
		fmt.Fprintf(w, "\nall %d host(s) are well\n", len(health))
	}
}

// unitColumn is a version, with the unit's state when it is not active.
func unitColumn(h phases.Health, name, version string) string {
	s := dash(version)
	for _, c := range h.Components {
		if c.Name == name && c.State != "active" {
			s += " (" + c.State + ")"
		}
	}
	return s
}

// edgeColumn is each edge component the host's role needs and its verdict.
func edgeColumn(h phases.Health) string {
	var parts []string
	for _, c := range h.Components {
		if c.Name == "kubelet" || c.Name == "containerd" {
			continue
		}
		v := "ok"
		switch {
		case c.State != "active":
			v = c.State
		case !c.OK:
			v = "unhealthy"
		}
		if c.Detail != "" {
			v += " (" + c.Detail + ")"
		}
		parts = append(parts, c.Name+" "+v)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func lockColumn(h phases.Health) string {
	switch {
	case !h.Reachable:
		return "-"
	case h.Lock == nil:
		return "free"
	case h.Lock.Held:
		return "held by " + h.Lock.Owner
	}
	return "stale (" + h.Lock.Owner + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusError is nil when every host is well; otherwise it names each
// host that is not (exit 3 when some hosts are well, 1 when none is).
func statusError(health []phases.Health) error {
	var bad []string
	for _, h := range health {
		if !h.OK {
			bad = append(bad, fmt.Sprintf("%s (%s)", h.Host, problemList(h)))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	code := exitcode.Partial
	if len(bad) == len(health) {
		code = exitcode.Failure
	}
	return exitcode.New(code, fmt.Errorf("%d of %d host(s) not well: %s", len(bad), len(health), strings.Join(bad, "; ")))
}
