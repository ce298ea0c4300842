package phases

// What phase control needs to know about each phase, declared on the phase
// types themselves (methods may live in any file of the package: keeping
// them here leaves the phases' own files alone).

// Describer gives the one line `edgeops up --help` shows for a phase.
type Describer interface{ Description() string }

// plumbing phases run in every run: the others act on what they learn.
type plumbing interface{ plumbing() }

// needer phases must run with others (by title): they need their result
// (joins: join info's token), or the others finish what they began (labels).
type needer interface{ needs() []string }

// helper phases only serve the phases that need them: never run alone.
type helper interface{ helper() }

// readOnly phases change no host: a single one runs without preflight.
type readOnly interface{ readOnly() }

// Pipelined phases (pipeline.go): stage, the reset of half-joined hosts,
// init and the joiners' install run host by host without waiting for one
// another: the leader's init starts as soon as it is staged.
func (stagePhase) pipelined()      {}
func (cleanPhase) pipelined()      {}
func (initPhase) pipelined()       {}
func (finishInitPhase) pipelined() {}
func (installPhase) pipelined()    {}

// stagedUser phases run the staged edgeadm or install the staged package:
// when stage is left out, the files must already be on the hosts.
type stagedUser interface{ usesStaged() }

func isPlumbing(p Phase) bool { _, ok := p.(plumbing); return ok }
func isHelper(p Phase) bool   { _, ok := p.(helper); return ok }
func isReadOnly(p Phase) bool { _, ok := p.(readOnly); return ok }
func usesStaged(p Phase) bool { _, ok := p.(stagedUser); return ok }

// needsOf names (kebab case) the phases p must run with.
func needsOf(p Phase) []string {
	n, ok := p.(needer)
	if !ok {
		return nil
	}
	var out []string
	for _, title := range n.needs() {
		out = append(out, kebab(title))
	}
	return out
}

func (connectPhase) plumbing() {}
func (lockPhase) plumbing()    {}
func (factsPhase) plumbing()   {}
func (decidePhase) plumbing()  {}

func (preflightPhase) readOnly()  {}
func (kubeconfigPhase) readOnly() {}
func (readyPhase) readOnly()      {}

// labels applies to the hosts initialised or joined in the same run only
// (a later run finds them done and leaves them alone): it goes with them.
func (joinInfoPhase) helper() {}
func (labelPhase) helper()    {}

func (joinPhase) needs() []string {
	return []string{joinInfoPhase{}.Title(), labelPhase{}.Title()}
}
func (initPhase) needs() []string       { return []string{labelPhase{}.Title()} }
func (finishInitPhase) needs() []string { return []string{labelPhase{}.Title()} }

func (cleanPhase) usesStaged()      {}
func (installPhase) usesStaged()    {}
func (initPhase) usesStaged()       {}
func (finishInitPhase) usesStaged() {}
func (joinInfoPhase) usesStaged()   {}
func (joinPhase) usesStaged()       {}

func (connectPhase) Description() string { return "open an SSH connection to every host" }
func (lockPhase) Description() string    { return "take every host's lock (one run at a time)" }
func (factsPhase) Description() string   { return "read what is installed and running on each host" }
func (decidePhase) Description() string {
	return "ask the leader's cluster and decide each host's action (init, join, nothing)"
}
func (preflightPhase) Description() string {
	return "check names, ports, architecture, clock and API reachability; changes nothing"
}
func (stagePhase) Description() string {
	return "copy edgeadm and the install package to the hosts (skipped when the sha256 matches)"
}
func (cleanPhase) Description() string {
	return "edgeadm reset --force on hosts whose join was interrupted"
}
func (initPhase) Description() string { return "edgeadm init on the leader of a new cluster" }
func (installPhase) Description() string {
	return "install the package on the joining hosts while the leader initialises (edgeadm join phase prepare-node, install-package)"
}
func (finishInitPhase) Description() string {
	return "run init's last phases again on a leader that never finished"
}
func (joinInfoPhase) Description() string {
	return "mint a join token on the leader for the joining hosts (runs with the join phases)"
}
func (p joinPhase) Description() string {
	if p.masters {
		return "edgeadm join --control-plane on the other masters, one at a time"
	}
	return "edgeadm join on the edge and worker hosts, in parallel"
}
func (labelPhase) Description() string {
	return "apply the inventory's node labels and taints (runs with init and the joins)"
}
func (kubeconfigPhase) Description() string {
	return "write the admin kubeconfig beside the inventory (0600)"
}
func (readyPhase) Description() string { return "wait until every node is Ready" }
