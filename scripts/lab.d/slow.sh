# slow HOST PROFILE: shape the host's outgoing link (placeholder until the delayer lands).
# shellcheck shell=bash
netem_stop() { :; }
netem_stop_all() { :; }
netem_describe() { :; }
cmd_slow() { die "slow: not yet"; }
