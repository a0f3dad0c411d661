package yamldoc

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// Position returns the 1-based line and column of the value at path, a list
// of mapping keys and sequence indices. When keyPosition is true and the last
// element is a mapping key, the key's position is returned instead of the
// value's. When the path does not exist, the position of its deepest existing
// ancestor is returned.
func (d *Doc) Position(path []string, keyPosition bool) (line, col int) {
	if d == nil || d.Root == nil {
		return 0, 0
	}
	n := d.Root
	for i, p := range path {
		next, key := child(n, p)
		if next == nil {
			break
		}
		if i == len(path)-1 && keyPosition && key != nil {
			return key.Line, key.Column
		}
		n = next
	}
	return n.Line, n.Column
}

// child returns the value node at key or index p and, for mappings, the key node.
func child(n *yaml.Node, p string) (value, key *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				return n.Content[i+1], n.Content[i]
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(p)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], nil
		}
	}
	return nil, nil
}
