package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edgeops/edgeops/pkg/agent"
)

// wrapInit runs edgeadm's phases around kubeadm init's workflow. kubeadm's
// runner is private to its init command, so its phases cannot be inserted
// into it: edgeadm runs its own before and after, each with a 'phase'
// subcommand, and takes its names out of --skip-phases.
func wrapInit(c *cobra.Command, host *agent.Host) {
	opts := agent.NewOptions()
	opts.AddFlags(c.Flags())
	opts.AddInitFlags(c.Flags())
	pre, post := agent.PrePhases(), agent.InitPostPhases()
	all := append(append([]agent.Phase{}, pre...), post...)
	kubeadmRun := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := ctxOf(cmd)
		fs := cmd.Flags()
		skips, err := takeSkips(fs, all)
		if err != nil {
			return err
		}
		clearOwnFlags(fs)
		if flagBool(fs, "dry-run") {
			host.Logf("[init] --dry-run: edgeadm's phases (%s) are skipped", phaseNames(all))
			return kubeadmRun(cmd, args)
		}
		if err := agent.CheckEdgeManifestsDir(host, opts.EdgeManifestsDir); err != nil { // before the host changes
			return fmt.Errorf("init: %w", err)
		}
		userSkipsShowJoin, err := takeShowJoin(fs)
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		// No secret may be printed when the token is not: the certificate key neither.
		if flagBool(fs, "skip-token-print") {
			if err := fs.Set("skip-certificate-key-print", "true"); err != nil {
				return err
			}
		}
		uploadCerts := flagBool(fs, "upload-certs")
		cfg, err := agent.InitConfigFromFlags(fs, agent.InitSettings{EnableEdge: opts.EnableEdge, EvictionTolerationSeconds: opts.EdgeEvictionTolerationSeconds, UploadCerts: uploadCerts})
		if err != nil {
			return fmt.Errorf("init: kubeadm configuration: %w", err)
		}
		if err := agent.CheckVIP(opts.VIP); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if err := agent.VIPEndpoint(cfg.Cluster, opts.VIP); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		r := &agent.Run{
			Host: host, Opts: opts, Workflow: "init", ControlPlane: true, Role: agent.RoleControlPlane,
			ImageRepository: cfg.Cluster.ImageRepository, NodeName: cfg.Init.NodeRegistration.Name,
			KubernetesVersion: cfg.Cluster.KubernetesVersion, // check-package refuses one the package lacks
			Progress:          agent.NewProgress(opts.ProgressFD, "init"),
		}
		preT, err := agent.RunPhases(ctx, r, "init", pre, skips)
		if err != nil {
			return err
		}
		version := ""
		if in, _ := host.LoadInstalled(); in != nil {
			version = in.KubernetesVersion
		}
		facts := agent.NodeFacts{KubernetesVersion: version, KubeletResolvConf: r.KubeletResolvConf,
			CgroupDriver: agent.CgroupDriver(host), ConntrackReadOnly: agent.ConntrackReadOnly(host)}
		if facts.ConntrackReadOnly {
			host.Warnf("nf_conntrack_max cannot be set on this host (a container?): kube-proxy is told to leave it alone (conntrack.maxPerCore: 0)")
		}
		agent.FinishInitConfig(cfg, facts)
		if err := agent.AnnounceVIP(ctx, r); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if opts.EnableEdge && !skips[agent.PhaseEdge] {
			if err := agent.PrepareTunnelEgress(host, cfg.Cluster); err != nil {
				return fmt.Errorf("init: %w", err)
			}
		}
		if err := agent.PrepareCgroups(host, &cfg.Init.NodeRegistration, &cfg.Init.Patches); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		data, err := cfg.Marshal()
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		r.Secrets = agent.InitSecretsOf(cfg, uploadCerts)
		if err := runKubeadm(ctx, cmd, args, kubeadmRun, data, r, post, skips, preT); err != nil {
			return err
		}
		if userSkipsShowJoin {
			return nil
		}
		return showInitDone(host, fs, cfg, r, skips)
	}
	describePhases(c, pre, post)
	addPhaseCommands(c, host, "init", all, func(fs *pflag.FlagSet, o *agent.Options) (*agent.Run, error) {
		return &agent.Run{Host: host, Opts: o, Workflow: "init", ControlPlane: true, Role: agent.RoleControlPlane,
			ImageRepository: flagString(fs, "image-repository"), NodeName: flagString(fs, "node-name"),
			Progress: agent.NewProgress(o.ProgressFD, "init")}, nil
	}, func(fs *pflag.FlagSet) {
		fs.String("image-repository", "", "Container registry the images are tagged for (as kubeadm's --image-repository)")
		fs.String("node-name", "", "Node name (as kubeadm's --node-name)")
	})
}
