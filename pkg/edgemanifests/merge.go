package edgemanifests

import "sort"

// Merged is the edge YAML to use and how the user's folder changed it.
type Merged struct {
	Files    []File   // in name order: the order they are applied in
	Replaced []string // user's files that replaced a package file
	Added    []string // user's files with no package counterpart
	Removed  []string // package files an empty user file removed
	// Unmatched are empty user files with no package file to remove (a typo,
	// or a component a newer package no longer has).
	Unmatched []string
}

// Merge overrides defaults with the user's files, matched by name without
// .yaml/.yml: a file replaces the package's file of that name, an empty
// file removes it, any other file is added.
func Merge(defaults, overrides []File) Merged {
	var m Merged
	byStem := map[string]File{}
	for _, f := range defaults {
		byStem[Stem(f.Name)] = f
	}
	for _, o := range overrides {
		stem := Stem(o.Name)
		_, had := byStem[stem]
		switch {
		case Empty(o.Data) && had:
			delete(byStem, stem)
			m.Removed = append(m.Removed, o.Name)
		case Empty(o.Data):
			m.Unmatched = append(m.Unmatched, o.Name)
		case had:
			byStem[stem] = o
			m.Replaced = append(m.Replaced, o.Name)
		default:
			byStem[stem] = o
			m.Added = append(m.Added, o.Name)
		}
	}
	for _, f := range byStem {
		m.Files = append(m.Files, f)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
	for _, l := range [][]string{m.Replaced, m.Added, m.Removed, m.Unmatched} {
		sort.Strings(l)
	}
	return m
}

// Find returns the merged file of a name (matched without .yaml/.yml).
func (m Merged) Find(name string) (File, bool) {
	for _, f := range m.Files {
		if Stem(f.Name) == Stem(name) {
			return f, true
		}
	}
	return File{}, false
}
