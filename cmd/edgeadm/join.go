package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edgeops/edgeops/pkg/agent"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

// wrapJoin runs edgeadm's phases around kubeadm join. Discovery comes from
// kubeadm's own flags or --config when a person gives them, else from
// --join-info-file (how edgeops drives it: no secret on a command line);
// edgeadm hands it to kubeadm in a root-only JoinConfiguration.
func wrapJoin(c *cobra.Command, host *agent.Host) {
	opts := agent.NewOptions()
	opts.AddFlags(c.Flags())
	opts.AddJoinFlags(c.Flags())
	pre, post := agent.PrePhases(), agent.JoinPostPhases()
	all := append(append([]agent.Phase{}, pre...), post...)
	kubeadmRun := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := ctxOf(cmd)
		fs := cmd.Flags()
		skips, err := takeSkips(fs, all)
		if err != nil {
			return err
		}
		infoFileGiven := fs.Changed(agent.FlagJoinInfoFile)
		clearOwnFlags(fs)
		if flagBool(fs, "dry-run") {
			host.Logf("[join] --dry-run: edgeadm's phases (%s) are skipped", phaseNames(all))
			return kubeadmRun(cmd, args)
		}
		if err := agent.CheckEdgeManifestsDir(host, opts.EdgeManifestsDir); err != nil { // before the host changes
			return fmt.Errorf("join: %w", err)
		}
		controlPlane := flagBool(fs, "control-plane")
		role, err := opts.Role(controlPlane)
		if err != nil {
			return err
		}
		endpoint := ""
		if len(args) > 0 {
			endpoint = args[0]
		}
		var info joininfo.Info // read only on edgeops' path (no discovery flags)
		cfg, err := agent.JoinConfigFromFlags(fs, agent.JoinSettings{
			LoadInfo: func() (joininfo.Info, error) {
				var err error
				info, err = readJoinInfo(host, opts.JoinInfoFile)
				return info, err
			},
			InfoFileGiven: infoFileGiven, Role: role, Endpoint: endpoint,
		})
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		if err := agent.CheckJoinConfig(cfg); err != nil {
			return fmt.Errorf("join: %w", err)
		}
		r := &agent.Run{Host: host, Opts: opts, Workflow: "join", ControlPlane: controlPlane, Role: role,
			NodeName: cfg.Join.NodeRegistration.Name, ClusterVersion: info.KubernetesVersion,
			Progress: agent.NewProgress(opts.ProgressFD, "join")}
		host.Logf("[join] joining %s as %s", agent.JoinEndpoint(cfg.Join), role)
		preT, err := agent.RunPhases(ctx, r, "join", pre, skips)
		if err != nil {
			return err
		}
		if r.KubeletResolvConf != "" {
			agent.SetKubeletArg(&cfg.Join.NodeRegistration, "resolv-conf", r.KubeletResolvConf)
		}
		// kubeadm's control-plane preflight pulls the control-plane images
		// under the cluster's repository: tag the package's images first.
		// A node of an image-less package too: its kubelet's first sandbox
		// needs pause from the cluster's registry as soon as kubeadm starts it.
		if (controlPlane || r.PullsImagesFromRegistry()) && !skips["retag-images"] {
			err := r.Progress.Time(agent.PhaseRetagImages, func() error {
				repo, err := agent.ClusterImageRepository(ctx, cfg)
				if err != nil {
					return err
				}
				if err := agent.RetagUnder(ctx, r, repo); err != nil {
					return fmt.Errorf("retag-images before kubeadm: %w", err)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("join: %w", err)
			}
		}
		// A master's API server follows the cluster's configuration: on an
		// edge cluster it reads the egress file edge-tunnel needs.
		if controlPlane && agent.TunnelInstalled(host) {
			if err := agent.WriteEgressSelector(host); err != nil {
				return fmt.Errorf("join: %w", err)
			}
		}
		if err := agent.PrepareCgroups(host, &cfg.Join.NodeRegistration, &cfg.Join.Patches); err != nil {
			return fmt.Errorf("join: %w", err)
		}
		data, err := cfg.Marshal()
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		// The endpoint argument is carried by the configuration now.
		return runKubeadm(ctx, cmd, nil, kubeadmRun, data, r, post, skips, preT)
	}
	describePhases(c, pre, post)
	addPhaseCommands(c, host, "join", all, func(fs *pflag.FlagSet, o *agent.Options) (*agent.Run, error) {
		cp := flagBool(fs, "control-plane")
		role, err := o.Role(cp)
		if err != nil {
			return nil, err
		}
		return &agent.Run{Host: host, Opts: o, Workflow: "join", ControlPlane: cp, Role: role,
			NodeName: flagString(fs, "node-name"), Progress: agent.NewProgress(o.ProgressFD, "join")}, nil
	}, func(fs *pflag.FlagSet) {
		fs.Bool("control-plane", false, "The node is a control-plane node (as kubeadm's --control-plane)")
		fs.String("node-name", "", "Node name (as kubeadm's --node-name)")
	})
}

// readJoinInfo reads the join information file edgeops (or token create) wrote.
func readJoinInfo(host *agent.Host, path string) (joininfo.Info, error) {
	info, err := joininfo.ReadFile(host.Path(path))
	if err != nil {
		return joininfo.Info{}, fmt.Errorf("%w (or join as with kubeadm: edgeadm join ENDPOINT --token … --discovery-token-ca-cert-hash sha256:…)", err)
	}
	if info.Expired(time.Now()) {
		return joininfo.Info{}, fmt.Errorf("the token in %s expired at %s: run 'edgeadm token create --%s %s' on a control-plane node",
			path, info.TokenExpires.Format(time.RFC3339), agent.FlagJoinInfoFile, path)
	}
	return info, nil
}
