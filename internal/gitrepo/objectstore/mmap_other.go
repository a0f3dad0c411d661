//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package objectstore

import "os"

// mapFile reads path into memory on platforms without mmap support here.
func mapFile(path string) ([]byte, func() error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
