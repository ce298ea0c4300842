package agent

import (
	"regexp"
	"strings"
)

// Placeholders in the package's YAML.
const (
	PlaceholderPodCIDR         = "__POD_CIDR__"
	PlaceholderImageRepository = "__IMAGE_REPOSITORY__"
)

var placeholderImage = regexp.MustCompile(regexp.QuoteMeta(PlaceholderImageRepository) + `/([A-Za-z0-9._/-]+(?::[A-Za-z0-9._-]+)?)`)

// SubstituteImages replaces __IMAGE_REPOSITORY__/<name>:<tag>. With a
// repository, the image is <repository>/<name>:<tag> (how the install names
// retagged images). Without one, it is the package image whose name ends in
// /<name>:<tag>, else fallback/<name>:<tag>.
func SubstituteImages(yaml []byte, repository, fallback string, packageImages []string) []byte {
	return placeholderImage.ReplaceAllFunc(yaml, func(m []byte) []byte {
		ref := string(placeholderImage.FindSubmatch(m)[1])
		if repository != "" {
			return []byte(strings.TrimSuffix(repository, "/") + "/" + ref)
		}
		for _, img := range packageImages {
			if strings.HasSuffix(img, "/"+ref) {
				return []byte(img)
			}
		}
		return []byte(strings.TrimSuffix(fallback, "/") + "/" + ref)
	})
}
