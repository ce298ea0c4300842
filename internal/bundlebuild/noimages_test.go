package bundlebuild

import (
	"reflect"
	"testing"
)

func TestRegistryImages(t *testing.T) {
	b := &Builder{Versions: &Versions{}}
	b.Versions.Flannel.Version = "v0.28.4"
	tests := []struct {
		name string
		list imageList
		want []string
	}{
		{"kubeadm's images and flannel, sorted", imageList{
			"pause": "registry.k8s.io/pause:3.10.2", "coredns": "registry.k8s.io/coredns/coredns:v1.14.6",
			"kube-apiserver": "registry.k8s.io/kube-apiserver:v1.37.2",
		}, []string{"registry.k8s.io/coredns/coredns:v1.14.6", "registry.k8s.io/flannel:v0.28.4",
			"registry.k8s.io/kube-apiserver:v1.37.2", "registry.k8s.io/pause:3.10.2"}},
		{"flannel alone", imageList{}, []string{"registry.k8s.io/flannel:v0.28.4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.registryImages(tc.list); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("registryImages = %v, want %v", got, tc.want)
			}
		})
	}
}
