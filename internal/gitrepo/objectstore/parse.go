package objectstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// File modes as git stores them in trees.
const (
	ModeDir        uint32 = 0o040000
	ModeRegular    uint32 = 0o100644
	ModeExecutable uint32 = 0o100755
	ModeSymlink    uint32 = 0o120000
	ModeSubmodule  uint32 = 0o160000
)

// RawCommit is the part of a commit object a history walk needs.
type RawCommit struct {
	// Tree is the root tree.
	Tree plumbing.Hash
	// Parents are the parent commits, first parent first.
	Parents []plumbing.Hash
	// Author and Committer are the raw signature lines without their
	// keyword, for example "Ann <ann@example.com> 1700000000 +0000".
	Author, Committer []byte
	// Message is the commit message.
	Message []byte
}

// ParseCommit parses a commit object's content.
func ParseCommit(data []byte) (RawCommit, error) {
	var c RawCommit
	rest := data
	sawTree := false
	for len(rest) > 0 {
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return c, errors.New("objectstore: commit header is not terminated")
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		if len(line) == 0 {
			c.Message = rest
			break
		}
		if line[0] == ' ' {
			continue // continuation of a multi-line header such as gpgsig
		}
		key, value, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "tree":
			h, err := parseHex(value)
			if err != nil {
				return c, fmt.Errorf("objectstore: commit tree: %w", err)
			}
			c.Tree, sawTree = h, true
		case "parent":
			h, err := parseHex(value)
			if err != nil {
				return c, fmt.Errorf("objectstore: commit parent: %w", err)
			}
			c.Parents = append(c.Parents, h)
		case "author":
			c.Author = value
		case "committer":
			c.Committer = value
		}
	}
	if !sawTree {
		return c, errors.New("objectstore: commit has no tree")
	}
	return c, nil
}

// CommitTreeAndParent returns only the tree and the first parent of a
// commit, without looking further than the header lines that hold them.
func CommitTreeAndParent(data []byte) (tree, parent plumbing.Hash, err error) {
	if len(data) < 46 || string(data[:5]) != "tree " || data[45] != '\n' {
		return tree, parent, errors.New("objectstore: commit does not start with its tree")
	}
	if tree, err = parseHex(data[5:45]); err != nil {
		return tree, parent, err
	}
	rest := data[46:]
	if len(rest) >= 48 && string(rest[:7]) == "parent " && rest[47] == '\n' {
		parent, err = parseHex(rest[7:47])
	}
	return tree, parent, err
}

func parseHex(b []byte) (plumbing.Hash, error) {
	var h plumbing.Hash
	if len(b) != 40 {
		return h, fmt.Errorf("bad object name %q", b)
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return h, fmt.Errorf("bad object name %q", b)
	}
	return h, nil
}

// TreeEntry is one entry of a tree object. Name aliases the tree's data.
type TreeEntry struct {
	Mode uint32
	Name []byte
	Hash plumbing.Hash
}

// WalkTree calls fn for each entry of a tree object in order until fn
// returns false.
func WalkTree(data []byte, fn func(TreeEntry) bool) error {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 || sp > 7 {
			return errors.New("objectstore: bad tree entry mode")
		}
		var mode uint32
		for _, c := range data[:sp] {
			if c < '0' || c > '7' {
				return errors.New("objectstore: bad tree entry mode")
			}
			mode = mode<<3 | uint32(c-'0')
		}
		nul := bytes.IndexByte(data[sp+1:], 0)
		if nul <= 0 || sp+1+nul+21 > len(data) {
			return errors.New("objectstore: truncated tree entry")
		}
		e := TreeEntry{Mode: mode, Name: data[sp+1 : sp+1+nul]}
		copy(e.Hash[:], data[sp+1+nul+1:])
		data = data[sp+1+nul+21:]
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// FindTreeEntry returns the entry called name in a tree object.
func FindTreeEntry(data []byte, name string) (TreeEntry, bool, error) {
	var found TreeEntry
	ok := false
	err := WalkTree(data, func(e TreeEntry) bool {
		if string(e.Name) == name {
			found, ok = e, true
			return false
		}
		return true
	})
	return found, ok, err
}
