package codeowners

import "slices"

// index finds the last matching rule without trying every rule.
//
// A rule anchored at the root whose pattern starts with literal directories
// ("/environments/prod/model.yaml", "/environments/*/x") can only match paths
// that start with those directories, so it is stored in a trie node reached by
// them. An unanchored rule naming one literal segment ("README.md", "apps/")
// can only match a path containing that segment, so it is stored under that
// name. Every other rule sits in the root node and is tried for every path.
//
// Rule numbers in every list are in descending order, so a list is scanned
// only until its first match or until it reaches a rule older than the best
// match found so far: the last matching line wins.
type index struct {
	root     node
	anywhere map[string][]int
}

type node struct {
	children map[string]*node
	rules    []int
}

func buildIndex(patterns []pattern) index {
	ix := index{anywhere: map[string][]int{}}
	for i := len(patterns) - 1; i >= 0; i-- {
		p := &patterns[i]
		if name, ok := p.anywhereName(); ok {
			ix.anywhere[name] = append(ix.anywhere[name], i)
			continue
		}
		n := &ix.root
		for _, seg := range p.literalPrefix() {
			child := n.children[seg]
			if child == nil {
				if n.children == nil {
					n.children = map[string]*node{}
				}
				child = &node{}
				n.children[seg] = child
			}
			n = child
		}
		n.rules = append(n.rules, i)
	}
	return ix
}

// lookup returns the number of the last rule matching path, or -1.
func (ix *index) lookup(patterns []pattern, path []string) int {
	best := -1
	try := func(rules []int) {
		for _, r := range rules {
			if r <= best {
				return
			}
			if patterns[r].match(path) {
				best = r
				return
			}
		}
	}
	if len(path) == 0 {
		return -1
	}
	n := &ix.root
	try(n.rules)
	for _, seg := range path {
		if n = n.children[seg]; n == nil {
			break
		}
		try(n.rules)
	}
	for i, seg := range path {
		if slices.Contains(path[:i], seg) {
			continue // already tried for an earlier segment of the same name
		}
		try(ix.anywhere[seg])
	}
	return best
}
