// Package lab holds the test of scripts/lab: real lab hosts (systemd, sshd)
// on this machine, and the faults it injects. The test runs when a Docker
// engine can run here and skips with the reason otherwise. The lab's helper
// programs live below: runc-wrapper (runc-lab) and netem (lab-netem).
package lab
