package codeowners

import "slices"

// index finds the last matching rule without trying every rule.
//
// A rule anchored at the root whose pattern starts with literal directories
// ("/environments/prod/model.yaml", "/environments/*/x") can only match paths
// that start with those directories, so it is listed in a trie node reached by
// them. An unanchored rule naming one literal segment ("README.md", "apps/")
// can only match a path containing that segment, so it is listed under that
// name. Every other rule is listed in the root node and tried for every path.
//
// Each list is linked through next in descending rule order, so a list is
// scanned only until its first match or until it reaches a rule older than the
// best match found so far: the last matching line wins.
type index struct {
	nodes    []node           // nodes[0] is the root
	next     []int32          // next[r] is the next older rule in r's list, or -1
	anywhere map[string]int32 // first rule of the list for a segment name
}

type node struct {
	children map[string]int32 // child node numbers by path segment
	head     int32            // newest rule of the node's list, or -1
}

func buildIndex(patterns []pattern) index {
	ix := index{
		nodes:    []node{{head: -1}},
		next:     make([]int32, len(patterns)),
		anywhere: map[string]int32{},
	}
	for i := range patterns {
		p := &patterns[i]
		r := int32(i)
		if name, ok := p.anywhereName(); ok {
			ix.next[r] = -1
			if head, ok := ix.anywhere[name]; ok {
				ix.next[r] = head
			}
			ix.anywhere[name] = r
			continue
		}
		n := int32(0)
		for _, s := range p.segments[:p.literalPrefixLen()] {
			child, ok := ix.nodes[n].children[s.literal]
			if !ok {
				child = int32(len(ix.nodes))
				ix.nodes = append(ix.nodes, node{head: -1})
				if ix.nodes[n].children == nil {
					ix.nodes[n].children = map[string]int32{}
				}
				ix.nodes[n].children[s.literal] = child
			}
			n = child
		}
		ix.next[r] = ix.nodes[n].head
		ix.nodes[n].head = r
	}
	return ix
}

// lookup returns the number of the last rule matching path, or -1.
func (ix *index) lookup(patterns []pattern, path []string) int {
	if len(path) == 0 {
		return -1
	}
	best := int32(-1)
	try := func(r int32) {
		for ; r > best; r = ix.next[r] {
			if patterns[r].match(path) {
				best = r
				return
			}
		}
	}
	n := &ix.nodes[0]
	try(n.head)
	for _, seg := range path {
		child, ok := n.children[seg]
		if !ok {
			break
		}
		n = &ix.nodes[child]
		try(n.head)
	}
	for i, seg := range path {
		if slices.Contains(path[:i], seg) {
			continue // already tried for an earlier segment of the same name
		}
		if head, ok := ix.anywhere[seg]; ok {
			try(head)
		}
	}
	return int(best)
}
