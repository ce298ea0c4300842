package edgeproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// objMeta is the part of an object edge-proxy reads.
type objMeta struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		Name            string            `json:"name"`
		Namespace       string            `json:"namespace"`
		ResourceVersion string            `json:"resourceVersion"`
		Continue        string            `json:"continue"`
		Annotations     map[string]string `json:"annotations"`
	} `json:"metadata"`
}

func isPaginated(body []byte) bool {
	if !bytes.Contains(body, []byte(`"continue"`)) {
		return false
	}
	var m objMeta
	return json.Unmarshal(body, &m) == nil && m.Metadata.Continue != ""
}

// listState is a cached LIST kept up to date by WATCH events.
type listState struct {
	top   map[string]json.RawMessage // the list without items
	meta  map[string]json.RawMessage
	items []json.RawMessage
	keys  []string       // namespace/name of items[i]
	index map[string]int // namespace/name -> items index
}

func newListState(kind, apiVersion string) *listState {
	k, _ := json.Marshal(kind)
	v, _ := json.Marshal(apiVersion)
	return &listState{top: map[string]json.RawMessage{"kind": k, "apiVersion": v}, meta: map[string]json.RawMessage{}, index: map[string]int{}}
}

func parseList(body []byte) (*listState, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("parse list: %w", err)
	}
	raw, ok := top["items"]
	if !ok {
		return nil, errors.New("not a list: no items")
	}
	s := &listState{top: top, meta: map[string]json.RawMessage{}, index: map[string]int{}}
	delete(top, "items")
	if m, ok := top["metadata"]; ok {
		if err := json.Unmarshal(m, &s.meta); err != nil {
			return nil, fmt.Errorf("parse list metadata: %w", err)
		}
	}
	if err := json.Unmarshal(raw, &s.items); err != nil {
		return nil, fmt.Errorf("parse list items: %w", err)
	}
	for i, it := range s.items {
		var m objMeta
		if err := json.Unmarshal(it, &m); err != nil {
			return nil, fmt.Errorf("parse list item: %w", err)
		}
		k := m.Metadata.Namespace + "/" + m.Metadata.Name
		s.index[k] = i
		s.keys = append(s.keys, k)
	}
	return s, nil
}

func (s *listState) str(field string) string {
	var v string
	_ = json.Unmarshal(s.top[field], &v)
	return v
}

// itemKind is the kind of the list's items (PodList -> Pod).
func (s *listState) itemKind() string { return strings.TrimSuffix(s.str("kind"), "List") }

func (s *listState) setRV(rv string) {
	if rv == "" {
		return
	}
	b, _ := json.Marshal(rv)
	s.meta["resourceVersion"] = b
}

// apply folds one watch event into the list; it reports whether it changed.
func (s *listState) apply(typ string, obj json.RawMessage) (bool, error) {
	var m objMeta
	if err := json.Unmarshal(obj, &m); err != nil {
		return false, fmt.Errorf("parse event object: %w", err)
	}
	k := m.Metadata.Namespace + "/" + m.Metadata.Name
	switch typ {
	case "ADDED", "MODIFIED":
		item, err := stripTypeMeta(obj)
		if err != nil {
			return false, err
		}
		if i, ok := s.index[k]; ok {
			s.items[i] = item
		} else {
			s.index[k] = len(s.items)
			s.items = append(s.items, item)
			s.keys = append(s.keys, k)
		}
	case "DELETED":
		if i, ok := s.index[k]; ok {
			s.items = append(s.items[:i], s.items[i+1:]...)
			s.keys = append(s.keys[:i], s.keys[i+1:]...)
			delete(s.index, k)
			for j := i; j < len(s.keys); j++ {
				s.index[s.keys[j]] = j
			}
		}
	case "BOOKMARK":
	default:
		return false, nil
	}
	s.setRV(m.Metadata.ResourceVersion)
	return true, nil
}

// stripTypeMeta drops kind and apiVersion, as list items are served.
func stripTypeMeta(obj json.RawMessage) (json.RawMessage, error) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(obj, &o); err != nil {
		return nil, fmt.Errorf("parse event object: %w", err)
	}
	if _, ok := o["kind"]; !ok {
		return obj, nil
	}
	delete(o, "kind")
	delete(o, "apiVersion")
	return json.Marshal(o)
}

// withTypeMeta adds kind and apiVersion back for a watch event.
func withTypeMeta(item json.RawMessage, kind, apiVersion string) json.RawMessage {
	var o map[string]json.RawMessage
	if json.Unmarshal(item, &o) != nil {
		return item
	}
	if _, ok := o["kind"]; ok {
		return item
	}
	o["kind"], _ = json.Marshal(kind)
	o["apiVersion"], _ = json.Marshal(apiVersion)
	b, err := json.Marshal(o)
	if err != nil {
		return item
	}
	return b
}

func (s *listState) encode() ([]byte, error) {
	out := make(map[string]json.RawMessage, len(s.top)+2)
	for k, v := range s.top {
		out[k] = v
	}
	m, err := json.Marshal(s.meta)
	if err != nil {
		return nil, fmt.Errorf("encode list metadata: %w", err)
	}
	out["metadata"] = m
	items := s.items
	if items == nil {
		items = []json.RawMessage{}
	}
	if out["items"], err = json.Marshal(items); err != nil {
		return nil, fmt.Errorf("encode list items: %w", err)
	}
	return json.Marshal(out)
}
