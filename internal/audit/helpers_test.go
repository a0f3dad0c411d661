package audit

import "slices"

func sortedStrings(s []string) []string { return slices.Sorted(slices.Values(s)) }

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }
