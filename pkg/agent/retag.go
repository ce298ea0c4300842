package agent

import (
	"context"
	"fmt"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// RetagForCluster tags the package's images under the cluster's image
// repository on a joining node, which learns the repository only from the
// cluster (kubeadm join has no --image-repository). With an image-less
// package it sets up the pulls from that repository instead.
func RetagForCluster(ctx context.Context, r *Run) error {
	in := r.installed()
	if in == nil {
		return nil
	}
	c, _, err := clients(r.Kubeconfig())
	if err != nil {
		return err
	}
	_, repo, err := clusterSettings(ctx, c)
	if err != nil {
		return err
	}
	return RetagUnder(ctx, r, repo)
}

// RetagUnder tags the package's images under repo (the cluster's image
// repository); a control-plane join needs this before kubeadm's preflight
// pulls its images, so it learns repo through discovery (ClusterImageRepository).
// PullsImagesFromRegistry says the installed package has no images: the
// node pulls them, pause included, from the cluster's repository.
func (r *Run) PullsImagesFromRegistry() bool {
	in := r.installed()
	return in != nil && in.ImageSource == bundle.ImagesFromRegistry
}

func RetagUnder(ctx context.Context, r *Run, repo string) error {
	in := r.installed()
	if in == nil {
		return nil
	}
	if in.ImageSource == bundle.ImagesFromRegistry {
		return joinRegistryImages(ctx, r, in, repo)
	}
	if repo == "" || repo == DefaultImageRepository || repo == in.ImageRepository {
		return nil
	}
	for i, img := range in.Images {
		t := RetagName(img.Name, repo)
		if _, err := r.Host.Cmd.Run(ctx, "ctr", "--namespace", "k8s.io", "images", "tag", "--force", img.Name, t); err != nil {
			return fmt.Errorf("tag image %s as %s: %w", img.Name, t, err)
		}
		in.Images[i].Tags = appendUnique(in.Images[i].Tags, t)
	}
	in.ImageRepository = repo
	r.Host.Logf("[retag-images] tagged %d images under %s", len(in.Images), repo)
	return r.Host.SaveInstalled(in)
}
