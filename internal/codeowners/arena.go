package codeowners

// arena hands out slices carved from large shared blocks, so that parsing a
// file of thousands of lines does not allocate per line. A slice returned by
// alloc has length 0 and its capacity capped, so appending beyond it copies
// instead of overwriting a neighbour.
type arena[T any] struct {
	block []T
}

// arenaBlock is the number of elements of a fresh block.
const arenaBlock = 4096

// alloc returns an empty slice with room for n elements. A nil arena
// allocates a plain slice.
func (a *arena[T]) alloc(n int) []T {
	if a == nil || n > arenaBlock/4 {
		return make([]T, 0, n)
	}
	if cap(a.block)-len(a.block) < n {
		a.block = make([]T, 0, arenaBlock)
	}
	start := len(a.block)
	a.block = a.block[:start+n]
	return a.block[start : start : start+n]
}

// arenas are the arenas used while parsing one file.
type arenas struct {
	segments arena[segment]
	owners   arena[Owner]
	tokens   []token // scratch space for the tokens of one pattern segment
}
