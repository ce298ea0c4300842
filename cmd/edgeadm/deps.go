package main

import _ "k8s.io/kubernetes/cmd/kubeadm/app/cmd"
