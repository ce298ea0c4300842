package phases

// The phase lists, as plain data. A command runs its list with Run.

// UpPhases brings the inventory's cluster up, or finishes what is missing.
func UpPhases() []Phase {
	return []Phase{
		connectPhase{}, lockPhase{}, factsPhase{}, decidePhase{}, preflightPhase{},
		stagePhase{}, cleanPhase{}, initPhase{}, finishInitPhase{}, installPhase{}, joinInfoPhase{},
		joinPhase{masters: true}, joinPhase{masters: false},
		labelPhase{}, kubeconfigPhase{}, readyPhase{},
	}
}

// AddNodePhases joins one host to an existing cluster; its State holds the
// leader (to mint join information) and the new host.
func AddNodePhases() []Phase {
	return []Phase{
		connectPhase{}, lockPhase{}, factsPhase{}, decidePhase{requireCluster: true}, preflightPhase{},
		stagePhase{}, cleanPhase{}, joinInfoPhase{}, joinPhase{masters: true}, joinPhase{masters: false},
		labelPhase{}, readyPhase{},
	}
}

// ResetPhases resets hosts: edge and worker nodes first, then the other
// masters, then the leader.
func ResetPhases() []Phase {
	return []Phase{
		connectPhase{}, lockPhase{}, factsPhase{},
		resetPhase{which: "nodes"}, resetPhase{which: "masters"}, resetPhase{which: "leader"},
	}
}

// PlanPhases only reads: what up would do is then described by Plan.
func PlanPhases() []Phase {
	return []Phase{connectPhase{}, factsPhase{}, decidePhase{}, preflightPhase{}}
}

// KubeconfigPhases fetches the admin kubeconfig from the leader.
func KubeconfigPhases() []Phase { return []Phase{connectPhase{}, kubeconfigPhase{}} }
